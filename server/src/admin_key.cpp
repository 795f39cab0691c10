#include "teduh/server/admin_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "teduh/crypto/aead.hpp"

namespace teduh::server {
namespace {

namespace fs = std::filesystem;

// Layout: crypto/FORMATS.md section 9. Change both together.
constexpr std::string_view kMagic = "TEDUHADM";
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kAlgorithm = 1;  // Argon2id v1.3 + XChaCha20-Poly1305-IETF
constexpr std::size_t kHeaderSize = 8 + 1 + 1 + 8 + 8 + crypto::kSaltSize + 32 + 32;  // 106
constexpr std::size_t kSecretSize = crypto::kSignSecretKeySize + 32;                  // 96
constexpr std::size_t kFileSize =
    kHeaderSize + crypto::kAeadNonceSize + kSecretSize + crypto::kAeadTagSize;  // 242

void put_u64(crypto::Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// `p` absolute and resolved as far as it exists, without a trailing separator.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(p, ec), ec);
  if (ec) out = p.lexically_normal();
  while (!out.empty() && out.filename().empty() && out != out.root_path()) out = out.parent_path();
  return out;
}

}  // namespace

fs::path legacy_admin_key_path(const fs::path& data_dir) { return data_dir / std::string(kLegacyAdminKeyFileName); }

[[nodiscard]] Result<fs::path> admin_key_path_outside(const fs::path& file, const fs::path& data_dir) {
  if (file.empty()) return fail(Errc::invalid_input, "--admin-key needs a file name");
  const fs::path f = resolved(file);
  const fs::path d = resolved(data_dir);
  const auto [d_end, f_at] = std::mismatch(d.begin(), d.end(), f.begin(), f.end());
  (void)f_at;
  if (d_end == d.end()) {
    return fail(Errc::invalid_input,
                "the administrator key must not be kept in the server's data folder (" + d.string() +
                    "): whoever copies that folder and knows the server passphrase must not get it; choose a "
                    "file elsewhere, for example on a USB drive the administrator keeps");
  }
  return f;
}

[[nodiscard]] Result<void> write_admin_key(const fs::path& path, const AdminKey& key, std::string_view passphrase,
                             const crypto::KdfParams& params) {
  crypto::init();
  if (passphrase.empty()) return fail(Errc::invalid_input, "the administrator passphrase is empty");
  crypto::Salt salt{};
  randombytes_buf(salt.data(), salt.size());
  crypto::Bytes file;
  file.insert(file.end(), kMagic.begin(), kMagic.end());
  file.push_back(kVersion);
  file.push_back(kAlgorithm);
  put_u64(file, params.opslimit);
  put_u64(file, params.memlimit);
  file.insert(file.end(), salt.begin(), salt.end());
  file.insert(file.end(), key.sign.public_key().begin(), key.sign.public_key().end());
  file.insert(file.end(), key.box.public_key().begin(), key.box.public_key().end());
  auto kek = crypto::derive_key(passphrase, salt, params);
  if (!kek)
    return fail(Errc::storage, "cannot derive the administrator key: " + kek.error().message);
  crypto::SecretBytes secret(kSecretSize);
  std::memcpy(secret.data(), key.sign.secret_key().data(), crypto::kSignSecretKeySize);
  std::memcpy(secret.data() + crypto::kSignSecretKeySize, key.box.secret_key().data(), 32);
  const crypto::Bytes sealed = crypto::aead_seal(*kek, secret.view(), file);
  file.insert(file.end(), sealed.begin(), sealed.end());

  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return fail(Errc::already_exists, path.string() + " already exists");
    return fail(Errc::storage, "cannot create " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < file.size()) {
    const ssize_t n = ::write(fd, file.data() + done, file.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      return fail(Errc::storage, "cannot write " + path.string());
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(path.c_str());
    return fail(Errc::storage, "cannot sync " + path.string());
  }
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

[[nodiscard]] Result<AdminKey> create_admin_key(const fs::path& path, std::string_view passphrase,
                                  const crypto::KdfParams& params) {
  crypto::init();
  AdminKey key{crypto::SigningKey::generate(), crypto::DhKeyPair::generate()};
  TEDUH_TRY(write_admin_key(path, key, passphrase, params));
  return key;
}

[[nodiscard]] Result<AdminKey> open_admin_key(const fs::path& path, std::string_view passphrase) {
  crypto::init();
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(Errc::not_found, "there is no administrator key file at " + path.string() +
                                     " (teduhd admin init --admin-key FILE creates one)");
  }
  if (st.st_nlink > 1) {
    return fail(Errc::refused, path.string() + " has a second name (a hard link); keep the administrator key "
                                               "in one place, outside the server's data folder");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read the administrator key file " + path.string());
  const crypto::Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() != kFileSize || !std::equal(kMagic.begin(), kMagic.end(), file.begin()) ||
      file[8] != kVersion || file[9] != kAlgorithm) {
    return fail(Errc::refused,
                path.string() + " is not an administrator key file this teduhd can read");
  }
  crypto::KdfParams params{get_u64(&file[10]), get_u64(&file[18])};
  if (params.opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      params.memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
    return fail(Errc::refused,
                path.string() + " asks for a key derivation cost above the allowed maximum");
  }
  crypto::Salt salt{};
  std::memcpy(salt.data(), &file[26], salt.size());
  auto kek = crypto::derive_key(passphrase, salt, params);
  if (!kek)
    return fail(Errc::storage, "cannot derive the administrator key: " + kek.error().message);
  const crypto::ByteView header(file.data(), kHeaderSize);
  const crypto::ByteView sealed(file.data() + kHeaderSize, file.size() - kHeaderSize);
  auto secret = crypto::aead_open_secret(*kek, sealed, header);
  if (!secret)
    return fail(Errc::refused, "the administrator passphrase does not open " + path.string());
  auto sign = crypto::SigningKey::from_secret({secret->data(), crypto::kSignSecretKeySize});
  auto box = crypto::DhKeyPair::from_secret({secret->data() + crypto::kSignSecretKeySize, 32});
  if (!sign || !box) return fail(Errc::damaged, path.string() + " holds malformed keys");
  AdminKey key{std::move(*sign), std::move(*box)};
  // The public halves in the clear header must be the ones of the secret keys.
  if (!std::equal(key.sign.public_key().begin(), key.sign.public_key().end(), file.begin() + 42) ||
      !std::equal(key.box.public_key().begin(), key.box.public_key().end(), file.begin() + 74)) {
    return fail(Errc::damaged,
                path.string() + " holds public keys that do not match its secret keys");
  }
  return key;
}

}  // namespace teduh::server
