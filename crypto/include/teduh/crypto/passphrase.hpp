#pragma once
// Passphrase policy for new stores and new passphrases (crypto/FORMATS.md section 1,
// "Passphrase strength"): a strength estimate by libzxcvbn, and the one threshold that
// `teduh init`, `teduhd init`, the administrator key and `passphrase change` all apply.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace teduh::crypto {

// The minimum, in bits (log2 of the guesses zxcvbn estimates an attacker needs). Chosen
// against an offline attack on a stolen store: with Argon2id at the moderate cost, 2^59
// guesses on average is out of reach of anyone who steals a laptop or a server disk. The
// estimate knows English words only, so common Indonesian password words are added to its
// dictionary (kIndonesianWords in passphrase.cpp) and the bar is set above zxcvbn's own
// "very strong" (about 33 bits) to leave room for words it does not know.
inline constexpr double kMinPassphraseBits = 60.0;

// zxcvbn's estimate for this passphrase, with the built-in Indonesian words and
// `context` (office code, user name, ...) as words an attacker would try first.
double passphrase_bits(std::string_view passphrase, const std::vector<std::string>& context = {});

// nullopt when the passphrase is strong enough for a new store; otherwise one paragraph
// in Bahasa Indonesia saying why it is refused and how to choose one (never quoting it).
std::optional<std::string> weak_passphrase_reason(std::string_view passphrase,
                                                  const std::vector<std::string>& context = {});

// Reads one line from the terminal on stdin without echoing it, after writing `prompt`
// to stderr: the one passphrase prompt of `teduh` and `teduhd`. The caller checks that
// stdin is a terminal.
std::string read_hidden_line(const std::string& prompt);

}  // namespace teduh::crypto
