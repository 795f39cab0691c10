#pragma once
// Region codes (kode wilayah BPS) as a hierarchy: a province has 2 digits, a regency or city
// 4, a district (kecamatan) 7 and a village (desa/kelurahan) 10; each code begins with the
// code of the region it lies in ("32" Jawa Barat, "3276" Kota Depok, "3276010" a kecamatan
// in it). The canonical form is the digits alone. Stores written before this rule may hold
// dotted codes ("32.75"): they are read through region_digits, never rewritten.
#include <string>
#include <string_view>

#include "teduh/schema/error.hpp"

namespace teduh::schema {

// Dukcapil's province codes (Sumatra 11-19 and 21, Java 31-36, Bali and Nusa Tenggara
// 51-53, Kalimantan 61-65, Sulawesi 71-76, Maluku 81-82, Papua 91-96): the first two digits
// of every kode wilayah and of every NIK.
[[nodiscard]] bool is_province_code(int code);

// What a person typed as a region code, as its canonical digits: 2, 4, 7 or 10 digits,
// optionally with dots at the hierarchy's boundaries ("32.76.010" is "3276010"), beginning
// with a province code. "" stays "" (no region). Otherwise Errc::invalid_value with an
// Indonesian sentence that says what a code looks like.
[[nodiscard]] Result<std::string> normalize_region(std::string_view input);

// A stored region code as digits, leniently: the dots of older stores dropped; text that is
// not digits and dots is returned as it is (it then matches no filter but itself).
[[nodiscard]] std::string region_digits(std::string_view stored);

// Whether the stored region lies in `wanted` (a canonical code): the region itself or any
// region under it. "" wants every region. "3276" lies in "32"; "3276" does not lie in "327"
// (not a code) nor in "3275".
[[nodiscard]] bool region_within(std::string_view stored, std::string_view wanted);

}  // namespace teduh::schema
