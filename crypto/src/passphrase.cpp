// Passphrase strength with libzxcvbn (Debian's libzxcvbn-dev, built with its dictionary
// inside the library).
#include "teduh/crypto/passphrase.hpp"

#include <termios.h>
#include <unistd.h>
#include <zxcvbn.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace teduh::crypto {
namespace {

// Words that Indonesian passphrases are made of first: zxcvbn's own dictionaries are
// English, so without these "rahasia123" or "sandi-kantor" would look random to it.
constexpr const char* kIndonesianWords[] = {
    "teduh",  "sandi",   "katasandi", "kata",     "rahasia", "kunci",   "kantor", "server",
    "admin",  "administrator", "dinas", "pppa",   "uptd",    "ppa",     "p2tp2a", "kelurahan",
    "pusat",  "rumah",   "aman",      "rumahaman", "korban", "kasus",   "indonesia", "jakarta",
    "bekasi", "bandung", "surabaya",  "bismillah", "alhamdulillah", "sayang", "cinta", "merdeka",
    "garuda", "pancasila", "rahasiaku", "sandiku", "masuk",  "selamat", "pagi",   "malam",
    "uji",    "coba",    "demo",      "baru",     "lama",    "saya",    "aku",    "kamu",
};

}  // namespace

double passphrase_bits(std::string_view passphrase, const std::vector<std::string>& context) {
  if (passphrase.empty()) return 0.0;
  const std::string text(passphrase);  // zxcvbn wants a terminated string
  std::vector<const char*> words;
  for (const char* w : kIndonesianWords) words.push_back(w);
  for (const std::string& w : context) {
    if (!w.empty()) words.push_back(w.c_str());
  }
  words.push_back(nullptr);
  const double bits = ZxcvbnMatch(text.c_str(), words.data(), nullptr);
  return std::isfinite(bits) && bits > 0 ? bits : 0.0;
}

std::optional<std::string> weak_passphrase_reason(std::string_view passphrase,
                                                  const std::vector<std::string>& context) {
  const double bits = passphrase_bits(passphrase, context);
  if (bits >= kMinPassphraseBits) return std::nullopt;
  std::string why;
  if (passphrase.empty()) {
    why = "Kata sandi kosong ditolak. ";
  } else {
    char text[128];
    std::snprintf(text, sizeof text, "Kata sandi ini terlalu lemah (perkiraan kekuatannya %.0f bit, minimal %.0f bit). ",
                  std::floor(bits), kMinPassphraseBits);
    why = text;
  }
  return why +
         "Penyimpanan ini berisi data korban kekerasan: siapa pun yang mencuri laptop, server atau "
         "salinannya dapat mencoba menebak kata sandi tanpa batas, tanpa ketahuan. Gunakan kalimat "
         "sandi dari empat kata acak atau lebih yang tidak berhubungan dengan kantor, nama atau tanggal, "
         "dan simpan di tempat yang aman.";
}

std::string read_hidden_line(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << "\n";
  return line;
}

}  // namespace teduh::crypto
