// Teduh office app: a small single-page front end over the JSON API of `teduh app`
// (client/APP.md). Plain JavaScript, no framework. Every text from the store is put in
// the page with textContent, never as HTML. The addresses (#/kasus/ID) carry case ids
// only, never a name or NIK; searches are sent in a POST body.
"use strict";

const keadaan = {
  csrf: "",
  skema: null,
  zona: "WIB",
  pesan: "",
  pertama: true,
  kasus: null,      // the id of the case on the Kasus page
  memantau: false,  // a sync is being polled
  kantor: "",       // this office's code
  namaKantor: "",   // its name, for the letterhead of the print views
  wilayah: "",      // its region (BPS code) from the directory, "" before a first sync
  pengguna: "",     // the user, named under the signature of the print views
};

const ZONA_JAM = { WIB: 7, WITA: 8, WIT: 9 };

function el(id) {
  return document.getElementById(id);
}

function buat(tag, teks, kelas) {
  const e = document.createElement(tag);
  if (teks !== undefined && teks !== null) e.textContent = String(teks);
  if (kelas) e.className = kelas;
  return e;
}

function kosongkan(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// Calls the API. Changes carry the CSRF token; a locked store shows the unlock page.
async function api(cara, alamat, isi) {
  const opsi = { method: cara, headers: {}, credentials: "same-origin", cache: "no-store" };
  if (cara !== "GET") {
    opsi.headers["X-CSRF-Token"] = keadaan.csrf;
    opsi.headers["Content-Type"] = "application/json";
    opsi.body = JSON.stringify(isi || {});
  }
  let jawab;
  try {
    jawab = await fetch(alamat, opsi);
  } catch (e) {
    return { ok: false, status: 0, data: { galat: "Aplikasi Teduh tidak menjawab. Apakah teduh app masih berjalan?" } };
  }
  let data = {};
  try {
    data = await jawab.json();
  } catch (e) {
    data = { galat: "Jawaban aplikasi tidak terbaca." };
  }
  if (jawab.status === 423) {
    tampilkanBuka();
  }
  return { ok: jawab.ok, status: jawab.status, data: data };
}

// ---- labels and times ------------------------------------------------------------------

function labelKode(set, kode) {
  if (!kode) return "-";
  const daftar = keadaan.skema && keadaan.skema.codes[set];
  if (!daftar) return kode;
  const ketemu = daftar.find((k) => k.code === kode);
  return ketemu ? ketemu.label : kode;
}

function labelKodeBanyak(set, kode) {
  if (!kode) return "-";
  const bagian = Array.isArray(kode) ? kode : String(kode).split(",");
  return bagian.filter((k) => k).map((k) => labelKode(set, k)).join(", ") || "-";
}

function fieldsOf(entitas) {
  return (keadaan.skema && keadaan.skema.entities[entitas] && keadaan.skema.entities[entitas].fields) || [];
}

function specField(entitas, nama) {
  return fieldsOf(entitas).find((f) => f.name === nama);
}

function labelEntitas(entitas) {
  const e = keadaan.skema && keadaan.skema.entities[entitas];
  return e ? e.label : entitas;
}

// A stored UTC time (YYYY-MM-DDTHH:MM:SSZ) in the office's zone, as the CLI prints it.
function waktuSetempat(utc) {
  if (!utc) return "-";
  const t = Date.parse(utc);
  if (Number.isNaN(t)) return utc;
  const jam = ZONA_JAM[keadaan.zona] || 7;
  const d = new Date(t + jam * 3600 * 1000);
  const dua = (n) => String(n).padStart(2, "0");
  return d.getUTCFullYear() + "-" + dua(d.getUTCMonth() + 1) + "-" + dua(d.getUTCDate()) + " " +
    dua(d.getUTCHours()) + ":" + dua(d.getUTCMinutes()) + " " + keadaan.zona;
}

function tampilNilai(entitas, nama, nilai) {
  const f = specField(entitas, nama);
  if (nilai === "" || nilai === undefined || nilai === null) return "-";
  if (!f) return nilai;
  if (f.kind === "ref") return "kode " + String(nilai).slice(0, 8);
  if (f.kind === "code") return labelKode(f.code_set, nilai);
  if (f.kind === "codes") return labelKodeBanyak(f.code_set, nilai);
  if (f.kind === "datetime") return waktuSetempat(nilai);
  if (f.kind === "boolean") return nilai === "1" ? "Ya" : "Tidak";
  return nilai;
}

// ---- pages -----------------------------------------------------------------------------

const HALAMAN = ["buka", "beranda", "daftar", "kasus", "baru", "konflik", "laporan", "cetak"];

function tampilkan(nama) {
  el("memuat").hidden = true;
  for (const h of HALAMAN) el("halaman-" + h).hidden = h !== nama;
  document.body.classList.toggle("mode-cetak", nama === "cetak");
  const terbuka = nama !== "buka";
  el("menu").hidden = !terbuka;
  el("tombol-kunci").hidden = !terbuka;
  for (const a of document.querySelectorAll("#menu a")) {
    const kini = a.dataset.halaman === nama || (nama === "kasus" && a.dataset.halaman === "daftar");
    if (kini) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // After a move inside the app the focus goes to the new page's heading (a screen reader
  // reads where it is); on the first page of a load it stays at the top, before the skip link.
  const judul = el("judul-" + nama);
  if (judul && !keadaan.pertama) {
    judul.setAttribute("tabindex", "-1");
    judul.focus();
  }
  keadaan.pertama = false;
  document.title = (judul ? judul.textContent : "Teduh") + " - Teduh";
}

function tampilkanBuka() {
  el("kantor").textContent = "";
  el("pengguna").textContent = "";
  tampilkan("buka");
  el("kata-sandi").focus();
}

// An error summary (GOV.UK pattern): the sentence, a link to the field the library named,
// and the library's own detail.
function tampilkanGalat(kotak, data, form) {
  kosongkan(kotak);
  kotak.appendChild(buat("p", data.galat || "Terjadi kesalahan."));
  for (const lama of document.querySelectorAll("[aria-invalid]")) lama.removeAttribute("aria-invalid");
  const isian = form && data.kolom ? form.querySelector('[name$=".' + data.kolom + '"], [name="' + data.kolom + '"]') : null;
  const label = isian ? document.querySelector('label[for="' + isian.id + '"]') : null;
  if (isian && label) {
    const a = buat("a", "Periksa: " + label.firstChild.textContent.trim());
    a.href = "#" + isian.id;
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      isian.focus();
    });
    const p = buat("p");
    p.appendChild(a);
    kotak.appendChild(p);
    isian.setAttribute("aria-invalid", "true");
  } else if (form && data.kolom === "forms") {
    kotak.appendChild(buat("p", "Periksa: Bentuk kekerasan"));
  }
  if (data.rincian) kotak.appendChild(buat("p", "Keterangan: " + data.rincian, "rincian-galat"));
  kotak.hidden = false;
}

async function muatSesi() {
  const r = await api("GET", "/api/sesi");
  if (!r.ok) return false;
  keadaan.csrf = r.data.csrf;
  if (r.data.zona_waktu) keadaan.zona = r.data.zona_waktu;
  el("kantor").textContent = r.data.kantor ? r.data.kantor + " (" + r.data.kode_kantor + ")" : "";
  el("pengguna").textContent = r.data.pengguna ? "Pengguna: " + r.data.pengguna : "";
  keadaan.kantor = r.data.kode_kantor || "";
  keadaan.namaKantor = r.data.kantor || "";
  keadaan.wilayah = r.data.wilayah_kantor || "";
  keadaan.pengguna = r.data.pengguna || "";
  return !r.data.terkunci;
}

async function bukaPenyimpanan(ev) {
  ev.preventDefault();
  const sandi = el("kata-sandi");
  const tombol = el("form-buka").querySelector("button");
  el("galat-buka").hidden = true;
  tombol.disabled = true;
  el("status-buka").textContent = "Membuka penyimpanan, mohon tunggu beberapa detik...";
  const r = await api("POST", "/api/buka", { kata_sandi: sandi.value });
  sandi.value = "";
  tombol.disabled = false;
  el("status-buka").textContent = "";
  if (!r.ok) {
    tampilkanGalat(el("galat-buka"), r.data);
    sandi.focus();
    return;
  }
  await muatSesi();
  if (!location.hash || location.hash === "#/") location.hash = "#/beranda";
  else await arahkan();
}

async function kunci() {
  await api("POST", "/api/kunci", {});
  tampilkanBuka();
}

// Beranda: deadlines, what waits for an answer, conflicts, last sync.
async function halamanBeranda() {
  const r = await api("GET", "/api/beranda");
  if (!r.ok) return;
  tampilkan("beranda");
  isiBeranda(r.data);
}

// Beranda's figures again, after a sync, without moving the focus.
async function perbaruiBeranda() {
  const r = await api("GET", "/api/beranda");
  if (r.ok) isiBeranda(r.data);
}

function isiBeranda(d) {  const terlambat = d.due.filter((x) => x.late).length;
  el("jumlah-tenggat").textContent = String(d.due.length);
  if (terlambat) el("jumlah-tenggat").appendChild(buat("span", " (" + terlambat + " terlambat)", "label-konflik"));
  el("jumlah-menunggu").textContent = String(d.menunggu.length);
  el("jumlah-konflik").textContent = String(d.konflik);
  el("tautan-konflik").hidden = d.konflik === 0;
  el("sinkron-terakhir").textContent = d.sinkron_terakhir || "Belum pernah";
  el("sinkron-hasil").textContent = d.sinkron_hasil ? ringkasSinkron(d.sinkron_hasil) : "";
  el("sinkron-otomatis").textContent = d.sinkron_otomatis_menit > 0
    ? "Sinkronisasi juga berjalan sendiri setiap " + d.sinkron_otomatis_menit + " menit selama aplikasi terbuka dan server terjangkau."
    : "Sinkronisasi hanya berjalan bila tombol ini ditekan.";
  if (d.sinkron_berjalan) pantauSinkron();

  const tenggat = el("tabel-tenggat").querySelector("tbody");
  kosongkan(tenggat);
  for (const x of d.due) {
    const tr = document.createElement("tr");
    const keadaanTd = document.createElement("td");
    keadaanTd.appendChild(buat("span", x.late ? "Terlambat" : "Segera", x.late ? "label-terlambat" : "label-segera"));
    tr.appendChild(keadaanTd);
    const kasusTd = document.createElement("td");
    const a = buat("a", x.number);
    a.href = "#/kasus/" + encodeURIComponent(x.case);
    kasusTd.appendChild(a);
    tr.appendChild(kasusTd);
    tr.appendChild(buat("td", x.label));
    tr.appendChild(buat("td", x.due_local));
    tenggat.appendChild(tr);
  }
  el("tabel-tenggat").hidden = d.due.length === 0;
  el("tenggat-kosong").hidden = d.due.length !== 0;

  const menunggu = el("tabel-menunggu").querySelector("tbody");
  kosongkan(menunggu);
  for (const x of d.menunggu) {
    const tr = document.createElement("tr");
    tr.appendChild(buat("td", x.kind === "rujukan" ? "Rujukan" : "Alih kelola"));
    const kasusTd = document.createElement("td");
    const a = buat("a", x.case_number || x.case);
    a.href = "#/kasus/" + encodeURIComponent(x.case);
    kasusTd.appendChild(a);
    tr.appendChild(kasusTd);
    const arahTd = document.createElement("td");
    if (x.arah === "masuk") {
      // An answer is given on the case page (Terima / Tolak).
      const jawab = buat("a", "Masuk: jawab di halaman kasus");
      jawab.href = "#/kasus/" + encodeURIComponent(x.case);
      arahTd.appendChild(jawab);
    } else {
      arahTd.textContent = "Keluar: menunggu jawaban";
    }
    tr.appendChild(arahTd);
    tr.appendChild(buat("td", x.arah === "masuk" ? x.from_office : x.to_office));
    tr.appendChild(buat("td", labelKode(x.kind === "rujukan" ? "status_rujukan" : "status_alih_kelola", x.status)));
    menunggu.appendChild(tr);
  }
  el("tabel-menunggu").hidden = d.menunggu.length === 0;
  el("menunggu-kosong").hidden = d.menunggu.length !== 0;
}

// ---- Sinkronisasi: runs on the app's own thread; the page asks how far it got ------------

function ringkasSinkron(h) {
  const bagian = ["dikirim " + h.pushed, "diterima " + h.pulled];
  if (h.conflicts_new) bagian.push("konflik baru " + h.conflicts_new);
  if (h.purged) bagian.push(h.purged + " kasus tidak lagi dipegang kantor ini");
  if (h.rejected) bagian.push("ditolak server " + h.rejected);
  return "Membawa: " + bagian.join(", ") + ".";
}

async function mulaiSinkron() {
  el("galat-sinkron").hidden = true;
  el("status-sinkron").textContent = "Memulai sinkronisasi...";
  const r = await api("POST", "/api/sinkron", {});
  if (!r.ok && r.status !== 409) {
    if (r.status === 423) return;
    tampilkanGalat(el("galat-sinkron"), r.data, null);
    return;
  }
  pantauSinkron();
}

// Polls GET /api/sinkron once a second while a sync runs; other pages keep working.
async function pantauSinkron() {
  if (keadaan.memantau) return;
  keadaan.memantau = true;
  el("tombol-sinkron").disabled = true;
  try {
    for (;;) {
      const r = await api("GET", "/api/sinkron");
      if (!r.ok) return;
      const s = r.data;
      if (s.berjalan) {
        el("status-sinkron").textContent = "Sinkronisasi berjalan: dikirim " + s.dikirim + ", diterima " + s.diterima + " sejauh ini...";
        await new Promise((selesai) => setTimeout(selesai, 1000));
        continue;
      }
      const h = s.hasil;
      if (h && h.ok) {
        el("status-sinkron").textContent = "Sinkronisasi selesai " + (s.selesai || "") + ". " + ringkasSinkron(h);
        el("galat-sinkron").hidden = true;
      } else if (h) {
        el("status-sinkron").textContent = "Sinkronisasi gagal.";
        tampilkanGalat(el("galat-sinkron"), h, null);
      }
      if (!el("halaman-beranda").hidden) await perbaruiBeranda();
      return;
    }
  } finally {
    keadaan.memantau = false;
    el("tombol-sinkron").disabled = false;
  }
}

// Daftar kasus: every case, or the ones whose victim matches the search, kept by the
// filters (status, worker, "kasus saya", the days received: Workflow::CaseFilter, as
// `teduh case list`). Sent as a POST body, so a name, NIK or worker never lands in an
// address, a history or a log.
async function halamanDaftar() {
  const q = el("cari").value.trim();
  const saring = {
    status: el("saring-status").value,
    petugas: el("saring-saya").checked ? "" : el("saring-petugas").value.trim(),
    saya: el("saring-saya").checked,
    dari: el("saring-dari").value,
    sampai: el("saring-sampai").value,
  };
  el("saring-petugas").disabled = saring.saya;
  const r = await api("POST", "/api/cari", Object.assign({ q: q }, saring));
  if (!r.ok) {
    if (r.status !== 423) {
      tampilkan("daftar");
      tampilkanGalat(el("galat-daftar"), r.data, null);
    }
    return;
  }
  el("galat-daftar").hidden = true;
  tampilkan("daftar");
  const disaring = saring.status || saring.petugas || saring.saya || saring.dari || saring.sampai;
  const kasus = r.data.cases.slice().reverse();
  const tbody = el("tabel-kasus").querySelector("tbody");
  kosongkan(tbody);
  for (const c of kasus) {
    const tr = document.createElement("tr");
    const nomor = document.createElement("td");
    const a = buat("a", c.number);
    a.href = "#/kasus/" + encodeURIComponent(c.id);
    nomor.appendChild(a);
    if (c.conflict) nomor.appendChild(buat("span", " konflik", "label-konflik"));
    tr.appendChild(nomor);
    tr.appendChild(buat("td", waktuSetempat(c.received_at), "waktu"));
    tr.appendChild(buat("td", labelKode("status_kasus", c.status) + (c.merged_into ? " (digabung)" : "")));
    tr.appendChild(buat("td", c.victim || "-"));
    tr.appendChild(buat("td", labelKodeBanyak("bentuk_kekerasan", c.forms)));
    tbody.appendChild(tr);
  }
  el("jumlah-kasus").textContent = kasus.length === 0
    ? (q ? "Tidak ada kasus yang cocok dengan pencarian" + (disaring ? " dan saringan." : ".")
      : (disaring ? "Tidak ada kasus yang sesuai saringan." : "Belum ada kasus."))
    : kasus.length + " kasus" + (q ? " cocok dengan pencarian" : "") + (disaring ? (q ? " dan" : "") + " sesuai saringan" : "") + ".";
}

// A definition list of an entity's fields in schema order; fields in conflict are marked,
// and a case a field points at (merged_into) is a link.
function isiRincian(dl, entitas, fields, konflik) {
  kosongkan(dl);
  const dikenal = fieldsOf(entitas).map((f) => f.name);
  const urutan = dikenal.filter((n) => n in fields).concat(Object.keys(fields).filter((n) => !dikenal.includes(n)));
  for (const nama of urutan) {
    if (entitas !== "kasus" && (nama === "case" || nama === "person")) continue;
    const f = specField(entitas, nama);
    dl.appendChild(buat("dt", f ? f.label : nama));
    const dd = buat("dd");
    if (entitas === "kasus" && nama === "merged_into" && fields[nama]) {
      const a = buat("a", "Buka kasus yang menampungnya");
      a.href = "#/kasus/" + encodeURIComponent(fields[nama]);
      dd.appendChild(a);
    } else {
      dd.textContent = tampilNilai(entitas, nama, fields[nama]);
    }
    if (konflik && konflik.includes(nama)) {
      dd.appendChild(buat("span", " konflik: nilai berbeda antarperangkat", "label-konflik"));
    }
    dl.appendChild(dd);
  }
}

// Kasus: the document of `teduh case show --json`, and its history.
async function halamanKasus(id) {
  const r = await api("GET", "/api/kasus/" + encodeURIComponent(id));
  if (!r.ok) {
    if (r.status !== 423) {
      tampilkan("kasus");
      el("judul-kasus").textContent = "Kasus tidak ditemukan";
    }
    return;
  }
  const riwayat = await api("GET", "/api/kasus/" + encodeURIComponent(id) + "/riwayat");
  const doc = r.data;
  tampilkan("kasus");
  el("judul-kasus").textContent = "Kasus " + (doc.case.number || "");
  document.title = el("judul-kasus").textContent + " - Teduh";
  const adaKonflik = doc.conflicts.length > 0 || doc.persons.some((p) => p.conflicts);
  el("peringatan-konflik").hidden = !adaKonflik;
  if (keadaan.pesan) {
    const p = buat("div", keadaan.pesan, "berhasil");
    p.setAttribute("role", "status");
    p.id = "pesan-berhasil";
    const lama = el("pesan-berhasil");
    if (lama) lama.remove();
    el("judul-kasus").after(p);
    keadaan.pesan = "";
  } else if (el("pesan-berhasil")) {
    el("pesan-berhasil").remove();
  }
  isiRincian(el("ringkasan-kasus"), "kasus", doc.case, doc.conflicts);
  keadaan.kasus = id;
  el("cetak-pengaduan").href = "#/cetak/pengaduan/" + encodeURIComponent(id);
  el("cetak-terminasi").href = "#/cetak/terminasi/" + encodeURIComponent(id);
  el("cetak-terminasi").hidden = doc.case.status !== "terminasi";
  isiJawaban(doc.menunggu_jawaban || []);
  siapkanTindakan(doc);

  const orang = el("orang-kasus");
  kosongkan(orang);
  if (doc.persons.length === 0) orang.appendChild(buat("p", "Belum ada orang yang dicatat.", "petunjuk"));
  // The victim first, then the reporter, then the alleged perpetrator.
  const urutanPeran = { korban: 0, pelapor: 1, terlapor: 2 };
  const peringkat = (p) => Math.min(3, ...doc.roles.filter((x) => x.fields.person === p.id)
    .map((x) => urutanPeran[x.fields.role] ?? 3));
  const orangUrut = doc.persons.slice().sort((a, b) => peringkat(a) - peringkat(b));
  for (const p of orangUrut) {
    const peran = doc.roles.filter((x) => x.fields.person === p.id);
    const judul = peran.map((x) => labelKode("peran", x.fields.role) +
      (x.fields.relationship ? " (" + labelKode("hubungan", x.fields.relationship) + ")" : "")).join(", ");
    const kotak = buat("div", null, "orang");
    kotak.appendChild(buat("h3", (judul || "Orang") + ": " + (p.fields.name || "tanpa nama") +
      (p.from_case ? " (dari kasus yang digabungkan ke sini)" : "")));
    const dl = buat("dl", null, "rincian");
    isiRincian(dl, "orang", p.fields, p.conflicts);
    kotak.appendChild(dl);
    orang.appendChild(kotak);
  }

  // Referrals, consents and shelter stays: each record's fields in schema order.
  for (const [kunci, entitas, wadah] of [["referrals", "rujukan", "rujukan-kasus"], ["consents", "persetujuan", "persetujuan-kasus"],
    ["shelter_stays", "penempatan", "penempatan-kasus"]]) {
    const kotak = el(wadah);
    kosongkan(kotak);
    const daftar = doc[kunci] || [];
    if (daftar.length === 0) kotak.appendChild(buat("p", "Belum ada.", "petunjuk"));
    for (const r of daftar) {
      const dl = buat("dl", null, "rincian rekaman");
      isiRincian(dl, entitas, r.fields, r.conflicts);
      if (r.refused) {
        dl.appendChild(buat("dt", "Status di server"));
        dl.appendChild(buat("dd", r.refused));
      }
      if (r.shelter_code_name) {
        dl.appendChild(buat("dt", "Rumah aman"));
        dl.appendChild(buat("dd", r.shelter_code_name + ", " + r.shelter_address));
      }
      kotak.appendChild(dl);
      if (kunci === "referrals") {
        const a = buat("a", "Cetak surat rujukan ke " + (r.fields.to_office || r.fields.to_external || "-"), "tombol kedua");
        a.href = "#/cetak/rujukan/" + encodeURIComponent(id) + "/" + encodeURIComponent(r.id);
        const p = buat("p", null, "cetak-rujukan");
        p.appendChild(a);
        kotak.appendChild(p);
      }
    }
  }

  const layanan = el("tabel-layanan").querySelector("tbody");
  kosongkan(layanan);
  const daftarLayanan = doc.services.slice().sort((a, b) => (a.fields.date || "").localeCompare(b.fields.date || ""));
  for (const s of daftarLayanan) {
    const tr = document.createElement("tr");
    tr.appendChild(buat("td", s.fields.date || "-"));
    tr.appendChild(buat("td", labelKode("jenis_layanan", s.fields.kind)));
    tr.appendChild(buat("td", s.fields.provider || "-"));
    tr.appendChild(buat("td", s.fields.outcome || "-"));
    layanan.appendChild(tr);
  }

  const tbody = el("tabel-riwayat").querySelector("tbody");
  kosongkan(tbody);
  const versi = riwayat.ok ? riwayat.data.versions : [];
  for (const v of versi) {
    if (v.entity_type === "audit" || v.field === "case" || v.field === "person") continue;
    const f = specField(v.entity_type, v.field);
    const tr = document.createElement("tr");
    tr.appendChild(buat("td", waktuSetempat(v.at), "waktu"));
    tr.appendChild(buat("td", labelEntitas(v.entity_type) + ": " + (f ? f.label : v.field)));
    tr.appendChild(buat("td", tampilNilai(v.entity_type, v.field, v.value)));
    tr.appendChild(buat("td", v.live ? "berlaku" : "sudah diganti"));
    tbody.appendChild(tr);
  }
}

// ---- Kasus actions: each a POST with the CSRF token, the Workflow call of the CLI ------

// After a change the case page is loaded again, with a message that says what happened.
async function setelahBerhasil(pesan) {
  keadaan.pesan = pesan;
  for (const d of document.querySelectorAll(".tindakan details")) d.open = false;
  await halamanKasus(keadaan.kasus);
  const p = el("pesan-berhasil");
  if (p) {
    p.setAttribute("tabindex", "-1");
    p.focus();
  }
}

// Sends one change of the Kasus page; on a refusal the form's error summary says why.
async function kirimTindakan(form, kotakGalat, alamat, isi, pesan) {
  const tombol = form ? form.querySelector("button[type=submit]") : null;
  if (tombol) tombol.disabled = true;
  const r = await api("POST", alamat, isi);
  if (tombol) tombol.disabled = false;
  if (!r.ok) {
    if (r.status === 423) return false;
    tampilkanGalat(kotakGalat, r.data, form);
    kotakGalat.focus();
    return false;
  }
  kotakGalat.hidden = true;
  if (form) form.reset();
  await setelahBerhasil(typeof pesan === "function" ? pesan(r.data) : pesan);
  return true;
}

// Referrals and transfers of this case addressed to this office, waiting for its answer.
function isiJawaban(daftar) {
  const ul = el("daftar-jawab");
  kosongkan(ul);
  el("galat-jawab").hidden = true;
  for (const x of daftar) {
    const rujukan = x.kind === "rujukan";
    const li = buat("li");
    li.appendChild(buat("p", (rujukan ? "Rujukan dari kantor " + (x.from_office || "-") : "Alih kelola kasus ke kantor ini") +
      ", status " + labelKode(rujukan ? "status_rujukan" : "status_alih_kelola", x.status) + "."));
    const baris = buat("div", null, "baris-tombol");
    for (const [terima, teks] of [[true, rujukan ? "Terima rujukan" : "Terima alih kelola"], [false, rujukan ? "Tolak rujukan" : "Tolak alih kelola"]]) {
      const b = buat("button", teks, terima ? "tombol" : "tombol kedua");
      b.type = "button";
      b.addEventListener("click", async () => {
        b.disabled = true;
        await kirimTindakan(null, el("galat-jawab"),
          "/api/" + (rujukan ? "rujukan" : "alih-kelola") + "/" + encodeURIComponent(x.id) + "/" + (terima ? "terima" : "tolak"), {},
          (rujukan ? "Rujukan " : "Alih kelola ") + (terima ? "diterima" : "ditolak") + ". Kantor pengirim melihatnya setelah sinkronisasi.");
        b.disabled = false;
      });
      baris.appendChild(b);
    }
    li.appendChild(baris);
    ul.appendChild(li);
  }
  el("jawab-kasus").hidden = daftar.length === 0;
}

// The fields a person may change: the case's (not those Teduh sets) and the victim's.
function pilihanUbah() {
  const sel = el("ubah-kolom");
  if (sel.options.length) return;
  sel.appendChild(buat("option", "- pilih -")).value = "";
  for (const [entitas, awalan, judul] of [["kasus", "", "Kasus"], ["orang", "korban.", "Korban"]]) {
    const grup = document.createElement("optgroup");
    grup.label = judul;
    for (const f of fieldsOf(entitas)) {
      if (f.oleh_teduh || f.kind === "ref" || f.name === "received_at" || f.name === "status" || f.name === "closed_reason") continue;
      const o = buat("option", f.label);
      o.value = awalan + f.name;
      grup.appendChild(o);
    }
    sel.appendChild(grup);
  }
}

// The input for the chosen field: a list of choices for a code, a date picker for a date.
function gantiIsianUbah() {
  const nilai = el("ubah-kolom").value;
  const entitas = nilai.startsWith("korban.") ? "orang" : "kasus";
  const f = specField(entitas, nilai.replace(/^korban\./, ""));
  const lama = el("ubah-nilai");
  let baru;
  if (f && (f.kind === "code" || f.kind === "boolean")) {
    baru = document.createElement("select");
    baru.appendChild(buat("option", "- kosongkan -")).value = "";
    const daftar = f.kind === "boolean" ? [{ code: "1", label: "Ya" }, { code: "0", label: "Tidak" }] : (keadaan.skema.codes[f.code_set] || []);
    for (const k of daftar) {
      const o = buat("option", k.label);
      o.value = k.code;
      baru.appendChild(o);
    }
  } else {
    baru = document.createElement("input");
    baru.type = f && f.kind === "date" ? "date" : f && f.kind === "integer" ? "number" : "text";
    baru.autocomplete = "off";
  }
  baru.id = "ubah-nilai";
  // Named after the field, so that an error naming it (kolom) links this input.
  baru.name = nilai || "nilai";
  lama.replaceWith(baru);
}

async function siapkanTindakan(doc) {
  pilihanUbah();
  const tertutup = doc.case.status === "terminasi";
  el("tindakan-tutup").hidden = tertutup;
  for (const g of ["galat-ubah", "galat-rujuk", "galat-tutup", "galat-alihkan"]) el(g).hidden = true;
  // Only the owner office proposes a transfer (the library refuses others and says why).
  el("tindakan-alihkan").hidden = tertutup || (doc.case.owner_office && doc.case.owner_office !== keadaan.kantor);
  const r = await api("GET", "/api/kantor");
  for (const id of ["rujuk-kantor", "alihkan-kantor"]) {
    const sel = el(id);
    kosongkan(sel);
    sel.appendChild(buat("option", "- pilih kantor -")).value = "";
    if (!r.ok) continue;
    for (const k of r.data.offices) {
      if (k.code === r.data.sendiri) continue;
      const o = buat("option", k.name + " (" + k.code + ")");
      o.value = k.code;
      sel.appendChild(o);
    }
  }
}

async function ajukanAlihKelola(ev) {
  ev.preventDefault();
  const form = el("form-alihkan");
  const ke = el("alihkan-kantor").value;
  const setuju = form.querySelector("input[name=persetujuan]:checked");
  if (!ke) {
    tampilkanGalat(el("galat-alihkan"), { galat: "Pilih kantor tujuan alih kelola." }, null);
    el("alihkan-kantor").focus();
    return;
  }
  if (!setuju) {
    tampilkanGalat(el("galat-alihkan"), { galat: "Jawab dulu apakah korban setuju kasus ini dialihkan." }, null);
    el("alihkan-setuju-ya").focus();
    return;
  }
  await kirimTindakan(form, el("galat-alihkan"), "/api/kasus/" + encodeURIComponent(keadaan.kasus) + "/alihkan", {
    ke: ke,
    persetujuan: setuju.value === "ya",
    persetujuan_oleh: el("alihkan-oleh").value,
  }, "Alih kelola ke " + ke + " diajukan. Kantor itu dapat menerimanya setelah kedua kantor disinkronkan.");
}

async function simpanUbah(ev) {
  ev.preventDefault();
  const kolom = el("ubah-kolom").value;
  if (!kolom) {
    tampilkanGalat(el("galat-ubah"), { galat: "Pilih dulu data yang diubah." }, null);
    el("ubah-kolom").focus();
    return;
  }
  const data = {};
  data[kolom] = el("ubah-nilai").value.trim();
  const label = el("ubah-kolom").selectedOptions[0].textContent;
  const berhasil = await kirimTindakan(el("form-ubah"), el("galat-ubah"), "/api/kasus/" + encodeURIComponent(keadaan.kasus) + "/ubah",
    { data: data }, label + " diubah.");
  if (berhasil) gantiIsianUbah();
}

async function kirimRujukan(ev) {
  ev.preventDefault();
  const form = el("form-rujuk");
  const mitra = el("rujuk-jenis-mitra").checked;
  const setuju = form.querySelector("input[name=persetujuan]:checked");
  const ke = mitra ? el("rujuk-mitra").value.trim() : el("rujuk-kantor").value;
  if (!ke) {
    tampilkanGalat(el("galat-rujuk"), { galat: mitra ? "Tulis nama lembaga mitra tujuan rujukan." : "Pilih kantor tujuan rujukan." }, null);
    (mitra ? el("rujuk-mitra") : el("rujuk-kantor")).focus();
    return;
  }
  if (!setuju) {
    tampilkanGalat(el("galat-rujuk"), { galat: "Jawab dulu apakah korban setuju kasus ini dirujuk." }, null);
    el("rujuk-setuju-ya").focus();
    return;
  }
  await kirimTindakan(form, el("galat-rujuk"), "/api/kasus/" + encodeURIComponent(keadaan.kasus) + "/rujuk", {
    ke: ke,
    alasan: el("rujuk-alasan").value.trim(),
    persetujuan: setuju.value === "ya",
    persetujuan_oleh: el("rujuk-oleh").value,
    eksternal: mitra,
  }, "Rujukan ke " + ke + " dicatat. Rujukan sampai ke tujuan setelah perangkat ini disinkronkan.");
  gantiJenisRujukan();
}

function gantiJenisRujukan() {
  const mitra = el("rujuk-jenis-mitra").checked;
  el("wadah-rujuk-kantor").hidden = mitra;
  el("wadah-rujuk-mitra").hidden = !mitra;
}

async function tutupKasus(ev) {
  ev.preventDefault();
  await kirimTindakan(el("form-tutup"), el("galat-tutup"), "/api/kasus/" + encodeURIComponent(keadaan.kasus) + "/tutup",
    { alasan: el("tutup-alasan").value.trim() }, "Kasus ditutup (terminasi).");
}

function isiPilihan() {
  for (const sel of document.querySelectorAll("select[data-kode]")) {
    kosongkan(sel);
    sel.appendChild(buat("option", "- pilih -")).value = "";
    for (const k of keadaan.skema.codes[sel.dataset.kode] || []) {
      const o = buat("option", k.label);
      o.value = k.code;
      sel.appendChild(o);
    }
  }
  const status = el("saring-status");
  kosongkan(status);
  status.appendChild(buat("option", "Semua status")).value = "";
  for (const k of keadaan.skema.codes.status_kasus || []) {
    const o = buat("option", k.label);
    o.value = k.code;
    status.appendChild(o);
  }
  const bentuk = el("pilihan-bentuk");
  kosongkan(bentuk);
  for (const k of keadaan.skema.codes.bentuk_kekerasan || []) {
    const label = buat("label");
    const kotak = document.createElement("input");
    kotak.type = "checkbox";
    kotak.name = "bentuk";
    kotak.value = k.code;
    kotak.id = "bentuk-" + k.code;
    label.htmlFor = kotak.id;
    label.appendChild(kotak);
    label.appendChild(document.createTextNode(k.label));
    bentuk.appendChild(label);
  }
}

// A warning, not a refusal: the same NIK, or the same name and birth date, is already
// recorded on this device (Workflow::same_victim). Sent as a POST body, like a search.
async function periksaSerupa() {
  const korban = {
    name: el("korban-name").value.trim(),
    nik: el("korban-nik").value.trim(),
    birth_date: el("korban-birth").value,
  };
  const kotak = el("peringatan-serupa");
  if (!korban.nik && !(korban.name && korban.birth_date)) {
    kotak.hidden = true;
    return;
  }
  const r = await api("POST", "/api/serupa", { korban: korban });
  kosongkan(kotak);
  if (!r.ok || r.data.cases.length === 0) {
    kotak.hidden = true;
    return;
  }
  const nik = r.data.cases.some((c) => c.signal === "nik");
  kotak.appendChild(buat("p", nik
    ? "Korban dengan NIK yang sama sudah tercatat. Periksa dulu apakah ini kasus yang sama:"
    : "Korban dengan nama dan tanggal lahir yang sama sudah tercatat. Periksa dulu apakah ini kasus yang sama:"));
  const ul = buat("ul");
  for (const c of r.data.cases) {
    const li = buat("li");
    const a = buat("a", c.number);
    a.href = "#/kasus/" + encodeURIComponent(c.id);
    li.appendChild(a);
    li.appendChild(document.createTextNode(" (status " + labelKode("status_kasus", c.status) + ", pengaduan " + waktuSetempat(c.received_at) + ")"));
    ul.appendChild(li);
  }
  kotak.appendChild(ul);
  kotak.appendChild(buat("p", "Pengaduan tetap dapat disimpan bila memang kasus baru.", "petunjuk"));
  kotak.hidden = false;
}

function halamanBaru() {
  el("galat-baru").hidden = true;
  tampilkan("baru");
}

// Pengaduan baru: the same Workflow::new_case as `teduh case new`; the server decides
// what is valid and says why in Indonesian.
async function simpanPengaduan(ev) {
  ev.preventDefault();
  const form = el("form-baru");
  const isi = { kasus: {}, korban: {}, terlapor: {}, hubungan_terlapor: "", pelapor: {}, hubungan_pelapor: "" };
  for (const e of form.elements) {
    if (!e.name || e.type === "checkbox" || e.type === "submit") continue;
    const titik = e.name.indexOf(".");
    if (titik < 0) {
      isi[e.name] = e.value.trim();
    } else {
      isi[e.name.slice(0, titik)][e.name.slice(titik + 1)] = e.value.trim();
    }
  }
  const bentuk = Array.from(form.querySelectorAll("input[name=bentuk]:checked")).map((k) => k.value);
  if (bentuk.length) isi.kasus.forms = bentuk.join(",");
  // A person is recorded only when something about them was written.
  for (const orang of ["terlapor", "pelapor"]) {
    if (Object.values(isi[orang]).every((v) => !v)) {
      isi[orang] = {};
      isi["hubungan_" + orang] = "";
    }
  }
  const tombol = form.querySelector("button[type=submit]");
  tombol.disabled = true;
  const r = await api("POST", "/api/kasus", isi);
  tombol.disabled = false;
  if (!r.ok) {
    if (r.status === 423) return;
    tampilkanGalat(el("galat-baru"), r.data, form);
    el("galat-baru").focus();
    return;
  }
  form.reset();
  el("galat-baru").hidden = true;
  el("peringatan-serupa").hidden = true;
  for (const lama of form.querySelectorAll("[aria-invalid]")) lama.removeAttribute("aria-invalid");
  keadaan.pesan = "Pengaduan tersimpan sebagai kasus " + r.data.number + ".";
  location.hash = "#/kasus/" + encodeURIComponent(r.data.id);
}

// ---- Konflik: every value side by side, with who, which office and when -----------------

const ATURAN_KONFLIK = {
  concurrent_edits: "Diubah di dua tempat pada waktu yang sama.",
  edited_while_removed: "Diubah di satu tempat, sementara di tempat lain datanya dihapus.",
  closed_while_service_recorded: "Kasus ditutup di satu tempat, sementara di tempat lain layanan baru dicatat.",
};

function tampilNilaiKonflik(c, nilai) {
  if (c.field === "_deleted") return nilai === "1" ? "Dihapus" : "Tetap ada";
  return tampilNilai(c.entity_type, c.field, nilai);
}

async function halamanKonflik() {
  const r = await api("GET", "/api/konflik");
  if (!r.ok) return;
  tampilkan("konflik");
  const wadah = el("daftar-konflik");
  kosongkan(wadah);
  if (keadaan.pesan) {
    const p = buat("div", keadaan.pesan, "berhasil");
    p.setAttribute("role", "status");
    wadah.appendChild(p);
    keadaan.pesan = "";
  }
  const daftar = r.data.conflicts;
  el("konflik-kosong").hidden = daftar.length !== 0;
  daftar.forEach((c, i) => {
    const kotak = buat("section", null, "konflik");
    const judul = buat("h2");
    judul.id = "konflik-" + i;
    kotak.setAttribute("aria-labelledby", judul.id);
    judul.appendChild(document.createTextNode(labelEntitas(c.entity_type) + ": " + c.label + " - kasus "));
    const a = buat("a", c.number || c.case.slice(0, 8));
    a.href = "#/kasus/" + encodeURIComponent(c.case);
    judul.appendChild(a);
    kotak.appendChild(judul);
    kotak.appendChild(buat("p", ATURAN_KONFLIK[c.rule] || "", "petunjuk"));
    const pilihan = buat("div", null, "pilihan-konflik");
    c.values.forEach((v, j) => {
      const n = buat("div", null, "nilai-konflik");
      n.appendChild(buat("p", "Isi " + (j + 1) + (v.shown ? " (yang tampil sekarang)" : ""), "asal"));
      n.appendChild(buat("p", tampilNilaiKonflik(c, v.value), "isi"));
      n.appendChild(buat("p", "Oleh " + (v.user || "-") + ", kantor " + (v.office || "-") + ", " + waktuSetempat(v.at), "asal"));
      const b = buat("button", c.values.length === 1 ? "Tetapkan isi ini" : "Pakai isi " + (j + 1), "tombol");
      b.type = "button";
      b.setAttribute("aria-describedby", judul.id);
      b.addEventListener("click", () => selesaikanKonflik(c, v, b));
      n.appendChild(b);
      pilihan.appendChild(n);
    });
    kotak.appendChild(pilihan);
    wadah.appendChild(kotak);
  });
}

// One click: the chosen version's value replaces every live one (`teduh resolve --keep`).
async function selesaikanKonflik(c, v, tombol) {
  tombol.disabled = true;
  const r = await api("POST", "/api/konflik/selesaikan", { kasus: c.case, entitas: c.entity, kolom: c.field, versi: v.version });
  tombol.disabled = false;
  if (!r.ok) {
    if (r.status === 423) return;
    tampilkanGalat(el("galat-konflik"), r.data, null);
    el("galat-konflik").focus();
    return;
  }
  el("galat-konflik").hidden = true;
  keadaan.pesan = "Konflik " + c.label + " pada kasus " + c.number + " selesai: isi yang dipilih berlaku di semua perangkat setelah sinkronisasi.";
  await halamanKonflik();
  const p = document.querySelector("#daftar-konflik .berhasil");
  if (p) {
    p.setAttribute("tabindex", "-1");
    p.focus();
  }
}

// ---- Laporan: the monthly report of `teduh report`, its chart, its CSV and Excel --------

function periodeLaporan() {
  const bulan = el("laporan-bulan").value;  // YYYY-MM
  if (!/^\d{4}-\d{2}$/.test(bulan)) return null;
  const [th, bl] = bulan.split("-").map(Number);
  const akhir = new Date(Date.UTC(th, bl, 0)).getUTCDate();
  return { dari: bulan + "-01", sampai: bulan + "-" + String(akhir).padStart(2, "0") };
}

function alamatLaporan(p, bentuk) {
  const q = new URLSearchParams({ dari: p.dari, sampai: p.sampai, publik: el("laporan-publik").checked ? "1" : "0" });
  if (bentuk) q.set("bentuk", bentuk);
  return "/api/laporan?" + q.toString();
}

async function halamanLaporan() {
  tampilkan("laporan");
  if (!el("laporan-bulan").value) {
    // This month in the office's zone (the report counts by office-local days).
    const kini = new Date(Date.now() + (ZONA_JAM[keadaan.zona] || 7) * 3600 * 1000);
    el("laporan-bulan").value = kini.getUTCFullYear() + "-" + String(kini.getUTCMonth() + 1).padStart(2, "0");
  }
  await tampilkanLaporan();
}

async function tampilkanLaporan(ev) {
  if (ev) ev.preventDefault();
  const p = periodeLaporan();
  if (!p) {
    tampilkanGalat(el("galat-laporan"), { galat: "Pilih bulannya dulu." }, null);
    return;
  }
  const r = await api("GET", alamatLaporan(p));
  if (!r.ok) {
    if (r.status !== 423) tampilkanGalat(el("galat-laporan"), r.data, null);
    return;
  }
  el("galat-laporan").hidden = true;
  el("teks-laporan").textContent = r.data.teks;
  el("grafik-laporan").src = alamatLaporan(p, "svg");
  el("grafik-laporan").alt = "Grafik laporan " + p.dari + " sampai " + p.sampai + "; angkanya ada di rincian di bawah.";
  el("unduh-csv").href = alamatLaporan(p, "csv");
  el("unduh-xlsx").href = alamatLaporan(p, "xlsx");
  el("cetak-laporan").href = "#/cetak/laporan/" + p.dari.slice(0, 7) + (el("laporan-publik").checked ? "/publik" : "");
  el("isi-laporan").hidden = false;
}

// ---- Cetak: A4 print views with the office's letterhead and signature blocks ------------
// Each is a page of this app (#/cetak/...; the address carries ids and a month only) drawn
// from the same JSON as the screen pages; app.css lays it out for A4 under @media print.
// The browser's print dialog prints it or saves it as PDF.

const BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];

// YYYY-MM-DD as "7 Desember 2026".
function tanggalPanjang(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd || "");
  if (!m) return ymd || "-";
  return Number(m[3]) + " " + BULAN[Number(m[2]) - 1] + " " + m[1];
}

// Today in the office's zone, YYYY-MM-DD.
function hariIni() {
  return waktuSetempat(new Date().toISOString().replace(/\.\d+Z$/, "Z")).slice(0, 10);
}

function bagianCetak(judul) {
  const wadah = el("isi-cetak");
  if (judul) wadah.appendChild(buat("h2", judul));
  return wadah;
}

// A two-column table of fields (label, value) in the order given; an empty field prints
// "-" so the paper shows what was not recorded. tambahan: further [label, text] rows.
function tabelCetak(entitas, fields, nama, tambahan) {
  const t = buat("table", null, "tabel-cetak");
  const tbody = document.createElement("tbody");
  const baris = nama.map((n) => {
    const f = specField(entitas, n);
    return [f ? f.label : n, tampilNilai(entitas, n, fields[n])];
  }).concat(tambahan || []);
  for (const [label, nilai] of baris) {
    const tr = document.createElement("tr");
    const th = buat("th", label);
    th.scope = "row";
    tr.appendChild(th);
    tr.appendChild(buat("td", nilai));
    tbody.appendChild(tr);
  }
  t.appendChild(tbody);
  return t;
}

// A ruled table with column headers; its tbody is filled by the caller.
function tabelBergaris(judulKolom) {
  const t = buat("table", null, "tabel-cetak bergaris");
  const thead = document.createElement("thead");
  const kepala = document.createElement("tr");
  for (const j of judulKolom) {
    const th = buat("th", j);
    th.scope = "col";
    kepala.appendChild(th);
  }
  thead.appendChild(kepala);
  t.appendChild(thead);
  const tbody = document.createElement("tbody");
  t.appendChild(tbody);
  return { tabel: t, isi: tbody };
}

// Signature blocks side by side: [role, name] each; a name left empty gets a dotted line.
function tandaTangan(blok) {
  const wadah = el("tanda-tangan");
  kosongkan(wadah);
  wadah.appendChild(buat("p", "Tanggal: " + tanggalPanjang(hariIni()), "tempat-tanggal"));
  const baris = buat("div", null, "baris-ttd");
  for (const [peran, nama] of blok) {
    const kotak = buat("div", null, "ttd");
    kotak.appendChild(buat("p", peran, "ttd-peran"));
    kotak.appendChild(buat("div", null, "ttd-ruang"));
    kotak.appendChild(buat("p", nama ? "( " + nama + " )" : "( ................................ )", "ttd-nama"));
    baris.appendChild(kotak);
  }
  wadah.appendChild(baris);
}

// The persons of a case with a role ("korban", "pelapor", "terlapor"), each with the
// relationship to the victim.
function orangBerperan(doc, peran) {
  const hasil = [];
  for (const x of doc.roles) {
    if (x.fields.role !== peran) continue;
    const p = doc.persons.find((o) => o.id === x.fields.person);
    if (p) hasil.push({ orang: p, hubungan: x.fields.relationship });
  }
  return hasil;
}

function hubunganBaris(x) {
  return x.hubungan ? [["Hubungan dengan korban", labelKode("hubungan", x.hubungan)]] : [];
}

const KOLOM_ORANG = ["name", "nik", "sex", "birth_date", "age", "education", "disability", "address", "phone"];

// Empties the sheet and writes its letterhead, title and number; `kembali` is where the
// back link leads.
function siapkanLembar(judul, nomor, kembali) {
  tampilkan("cetak");
  el("galat-cetak").hidden = true;
  el("lembar-cetak").hidden = false;
  el("kop-nama").textContent = keadaan.namaKantor || keadaan.kantor;
  el("kop-rinci").textContent = "Kode kantor " + keadaan.kantor + (keadaan.wilayah ? " \u00b7 Wilayah (kode BPS) " + keadaan.wilayah : "");
  el("judul-cetak").textContent = judul;
  el("nomor-cetak").textContent = nomor;
  el("kembali-cetak").href = kembali;
  el("kembali-cetak").textContent = kembali.startsWith("#/laporan") ? "\u2190 Kembali ke laporan" : "\u2190 Kembali ke kasus";
  kosongkan(el("isi-cetak"));
  kosongkan(el("tanda-tangan"));
  el("dicetak").textContent = "Dicetak dari Teduh oleh " + (keadaan.pengguna || "-") + ", " + waktuSetempat(new Date().toISOString().replace(/\.\d+Z$/, "Z")) + ".";
  // The file name a "Simpan sebagai PDF" offers.
  document.title = judul + (nomor ? " " + nomor.replace(/^.*: /, "") : "") + " - Teduh";
}

function gagalCetak(data, kembali) {
  tampilkan("cetak");
  el("lembar-cetak").hidden = true;
  el("kembali-cetak").href = kembali || "#/beranda";
  tampilkanGalat(el("galat-cetak"), data, null);
}

async function halamanCetak(bagian) {
  const [jenis, a, b] = bagian;
  if (jenis === "laporan") return cetakLaporan(a, b === "publik");
  const r = await api("GET", "/api/kasus/" + encodeURIComponent(a || ""));
  if (!r.ok) {
    if (r.status !== 423) gagalCetak(r.data, "#/daftar");
    return;
  }
  if (jenis === "pengaduan") return cetakPengaduan(r.data);
  if (jenis === "terminasi") return cetakTerminasi(r.data);
  if (jenis === "rujukan") return cetakRujukan(r.data, b);
  gagalCetak({ galat: "Lembar cetak itu tidak ada." }, "#/kasus/" + encodeURIComponent(a));
}

// Formulir Pengaduan: the intake as recorded, for the file and the reporter's signature.
function cetakPengaduan(doc) {
  const c = doc.case;
  siapkanLembar("Formulir Pengaduan", "Nomor kasus: " + c.number, "#/kasus/" + encodeURIComponent(doc.id));
  bagianCetak("A. Data pengaduan").appendChild(tabelCetak("kasus", c,
    ["received_at", "channel", "incident_date", "place", "kecamatan", "kelurahan", "forms", "risk_level", "assigned_worker", "summary"]));
  for (const [judul, peran] of [["B. Identitas korban", "korban"], ["C. Identitas pelapor", "pelapor"], ["D. Identitas terlapor", "terlapor"]]) {
    const wadah = bagianCetak(judul);
    const daftar = orangBerperan(doc, peran);
    if (daftar.length === 0) wadah.appendChild(buat("p", "Tidak dicatat."));
    for (const x of daftar) {
      wadah.appendChild(tabelCetak("orang", x.orang.fields, peran === "terlapor" ? ["name", "sex", "age", "address", "phone"] : KOLOM_ORANG, hubunganBaris(x)));
    }
  }
  bagianCetak("E. Kronologi kejadian").appendChild(buat("p", c.chronology || "-", "kronologi"));
  // The reporter signs; when none was recorded, the victim reported in person.
  const pelapor = orangBerperan(doc, "pelapor")[0];
  const korban = orangBerperan(doc, "korban")[0];
  tandaTangan([pelapor ? ["Pelapor", pelapor.orang.fields.name] : ["Korban (pelapor)", korban ? korban.orang.fields.name : ""],
    ["Petugas penerima pengaduan", keadaan.pengguna]]);
}

// Surat rujukan: the letter that goes with a referral to another office or a partner.
async function cetakRujukan(doc, idRujukan) {
  const rujukan = doc.referrals.find((x) => x.id === idRujukan);
  if (!rujukan) {
    gagalCetak({ galat: "Rujukan itu tidak ada pada kasus ini." }, "#/kasus/" + encodeURIComponent(doc.id));
    return;
  }
  const f = rujukan.fields;
  let tujuan = f.to_external || f.to_office || "-";
  if (f.to_office) {
    const kantor = await api("GET", "/api/kantor");
    const k = kantor.ok ? kantor.data.offices.find((o) => o.code === f.to_office) : null;
    if (k) tujuan = k.name + " (" + k.code + ")";
  }
  siapkanLembar("Surat Rujukan", "Nomor kasus: " + doc.case.number, "#/kasus/" + encodeURIComponent(doc.id));
  const isi = bagianCetak(null);
  isi.appendChild(tabelCetak("rujukan", f, [], [["Nomor surat", "...................................."], ["Perihal", "Rujukan kasus " + doc.case.number],
    ["Kepada Yth.", "Pimpinan " + tujuan]]));
  isi.appendChild(buat("p", "Dengan hormat, bersama ini kami merujuk korban pada kasus nomor " + doc.case.number +
    " untuk mendapatkan layanan lanjutan, dengan keterangan sebagai berikut."));
  const korban = orangBerperan(doc, "korban");
  const wadahKorban = bagianCetak("Identitas korban");
  if (korban.length === 0) wadahKorban.appendChild(buat("p", "Tidak dicatat."));
  for (const x of korban) wadahKorban.appendChild(tabelCetak("orang", x.orang.fields, ["name", "nik", "sex", "birth_date", "age", "address"]));
  bagianCetak("Keterangan kasus").appendChild(tabelCetak("kasus", doc.case, ["received_at", "forms", "risk_level", "summary"]));
  const persetujuan = doc.consents.find((x) => x.id === f.consent);
  const setuju = persetujuan
    ? labelKode("pemberi_persetujuan", persetujuan.fields.given_by) + (persetujuan.fields.giver_name ? " (" + persetujuan.fields.giver_name + ")" : "") +
      ", " + waktuSetempat(persetujuan.fields.given_at)
    : "-";
  bagianCetak("Rujukan").appendChild(tabelCetak("rujukan", f, ["reason", "status"], [["Persetujuan korban diberikan oleh", setuju]]));
  isi.appendChild(buat("p", "Demikian surat rujukan ini kami sampaikan. Atas perhatian dan kerja samanya kami ucapkan terima kasih."));
  tandaTangan([["Petugas perujuk", keadaan.pengguna], ["Kepala " + (keadaan.namaKantor || keadaan.kantor), ""]]);
}

// Formulir penutupan kasus (terminasi): why and when the case closed, what was given.
async function cetakTerminasi(doc) {
  const kembali = "#/kasus/" + encodeURIComponent(doc.id);
  if (doc.case.status !== "terminasi") {
    gagalCetak({ galat: "Kasus ini belum ditutup; formulir penutupan dicetak setelah kasus ditutup (terminasi)." }, kembali);
    return;
  }
  const riwayat = await api("GET", "/api/kasus/" + encodeURIComponent(doc.id) + "/riwayat");
  const tutup = (riwayat.ok ? riwayat.data.versions : [])
    .filter((v) => v.entity_type === "kasus" && v.field === "status" && v.value === "terminasi" && v.live).map((v) => v.at).sort().pop();
  siapkanLembar("Formulir Penutupan Kasus (Terminasi)", "Nomor kasus: " + doc.case.number, kembali);
  bagianCetak("A. Kasus").appendChild(tabelCetak("kasus", doc.case, ["received_at", "forms", "assigned_worker", "closed_reason"],
    [["Waktu kasus ditutup", waktuSetempat(tutup)]]));
  const wadahKorban = bagianCetak("B. Korban");
  const korban = orangBerperan(doc, "korban");
  if (korban.length === 0) wadahKorban.appendChild(buat("p", "Tidak dicatat."));
  for (const x of korban) wadahKorban.appendChild(tabelCetak("orang", x.orang.fields, ["name", "nik", "sex", "age"]));
  const wadahLayanan = bagianCetak("C. Layanan yang diberikan");
  if (doc.services.length === 0) {
    wadahLayanan.appendChild(buat("p", "Tidak ada layanan yang dicatat."));
  } else {
    const t = tabelBergaris(["Tanggal", "Jenis layanan", "Pemberi", "Hasil"]);
    for (const s of doc.services.slice().sort((x, y) => (x.fields.date || "").localeCompare(y.fields.date || ""))) {
      const tr = document.createElement("tr");
      for (const v of [s.fields.date || "-", labelKode("jenis_layanan", s.fields.kind), s.fields.provider || "-", s.fields.outcome || "-"]) tr.appendChild(buat("td", v));
      t.isi.appendChild(tr);
    }
    wadahLayanan.appendChild(t.tabel);
  }
  const wadahRujukan = bagianCetak("D. Rujukan");
  if (doc.referrals.length === 0) wadahRujukan.appendChild(buat("p", "Tidak ada rujukan."));
  for (const x of doc.referrals) {
    wadahRujukan.appendChild(tabelCetak("rujukan", x.fields, ["to_office", "to_external", "reason", "status"].filter((n) => x.fields[n])));
  }
  tandaTangan([["Korban atau pendampingnya", ""], ["Pendamping kasus", doc.case.assigned_worker || keadaan.pengguna],
    ["Mengetahui, Kepala " + (keadaan.namaKantor || keadaan.kantor), ""]]);
}

// The monthly report: the same rows as the CSV and the Excel workbook, and the chart.
async function cetakLaporan(bulan, publik) {
  if (!/^\d{4}-\d{2}$/.test(bulan || "")) {
    gagalCetak({ galat: "Bulan laporan tidak terbaca." }, "#/laporan");
    return;
  }
  const [th, bl] = bulan.split("-").map(Number);
  const p = { dari: bulan + "-01", sampai: bulan + "-" + String(new Date(Date.UTC(th, bl, 0)).getUTCDate()).padStart(2, "0") };
  const q = new URLSearchParams({ dari: p.dari, sampai: p.sampai, publik: publik ? "1" : "0" });
  const r = await api("GET", "/api/laporan?" + q.toString());
  if (!r.ok) {
    if (r.status !== 423) gagalCetak(r.data, "#/laporan");
    return;
  }
  siapkanLembar("Laporan Bulanan Kasus Kekerasan terhadap Perempuan dan Anak", "Periode: " + BULAN[bl - 1] + " " + th +
    " (" + tanggalPanjang(p.dari) + " s.d. " + tanggalPanjang(p.sampai) + ")", "#/laporan");
  const isi = bagianCetak(null);
  isi.appendChild(buat("p", publik
    ? "Untuk dibagikan ke luar kantor: sel berisi 1-4 kasus ditulis \"<5\"; \"x\" disembunyikan agar sel kecil tidak dapat dihitung dari jumlah."
    : "Untuk kantor sendiri: angka persis, tanpa nama, NIK atau alamat."));
  const img = buat("img", null, "grafik-cetak");
  q.set("bentuk", "svg");
  img.src = "/api/laporan?" + q.toString();
  img.alt = "Grafik kasus per bulan menurut bentuk kekerasan dan ketepatan waktu tenggat; angkanya ada di tabel.";
  isi.appendChild(img);
  const t = tabelBergaris(["Uraian", "Kode", "Jumlah", "Tanda"]);
  const tbody = t.isi;
  let kelompok = null;
  for (const b of r.data.baris) {
    if (b.kelompok !== kelompok) {
      kelompok = b.kelompok;
      const tr = document.createElement("tr");
      const h = buat("td", null, "kelompok");
      h.colSpan = 4;
      h.appendChild(buat("strong", kelompok));
      tr.appendChild(h);
      tbody.appendChild(tr);
    }
    const tr = document.createElement("tr");
    for (const v of [b.uraian, b.kode, b.jumlah === null ? "" : String(b.jumlah), b.tanda]) tr.appendChild(buat("td", v));
    tbody.appendChild(tr);
  }
  isi.appendChild(t.tabel);
  tandaTangan([["Dibuat oleh", keadaan.pengguna], ["Mengetahui, Kepala " + (keadaan.namaKantor || keadaan.kantor), ""]]);
}

// ---- routing ---------------------------------------------------------------------------

async function arahkan() {
  const h = location.hash || "#/beranda";
  const bagian = h.slice(2).split("/");
  if (bagian[0] === "daftar") return halamanDaftar();
  if (bagian[0] === "kasus" && bagian[1]) return halamanKasus(decodeURIComponent(bagian[1]));
  if (bagian[0] === "baru") return halamanBaru();
  if (bagian[0] === "konflik") return halamanKonflik();
  if (bagian[0] === "laporan") return halamanLaporan();
  if (bagian[0] === "cetak") return halamanCetak(bagian.slice(1).map(decodeURIComponent));
  return halamanBeranda();
}

async function mulai() {
  el("form-buka").addEventListener("submit", bukaPenyimpanan);
  el("form-cari").addEventListener("submit", (ev) => {
    ev.preventDefault();
    halamanDaftar();
  });
  el("saring-status").addEventListener("change", halamanDaftar);
  el("saring-saya").addEventListener("change", halamanDaftar);
  el("hapus-saringan").addEventListener("click", () => {
    for (const id of ["saring-petugas", "saring-dari", "saring-sampai"]) el(id).value = "";
    el("saring-status").value = "";
    el("saring-saya").checked = false;
    halamanDaftar();
  });
  el("form-baru").addEventListener("submit", simpanPengaduan);
  for (const id of ["korban-name", "korban-nik", "korban-birth"]) el(id).addEventListener("change", periksaSerupa);
  el("tombol-kunci").addEventListener("click", kunci);
  el("tombol-sinkron").addEventListener("click", mulaiSinkron);
  el("form-ubah").addEventListener("submit", simpanUbah);
  el("ubah-kolom").addEventListener("change", gantiIsianUbah);
  el("form-rujuk").addEventListener("submit", kirimRujukan);
  for (const r of document.querySelectorAll("#form-rujuk input[name=jenis]")) r.addEventListener("change", gantiJenisRujukan);
  el("form-tutup").addEventListener("submit", tutupKasus);
  el("form-alihkan").addEventListener("submit", ajukanAlihKelola);
  el("form-laporan").addEventListener("submit", tampilkanLaporan);
  el("tombol-cetak").addEventListener("click", () => window.print());
  window.addEventListener("hashchange", arahkan);
  const skema = await api("GET", "/api/skema");
  if (!skema.ok) {
    el("memuat").textContent = skema.data.galat || "Aplikasi tidak dapat dimuat.";
    return;
  }
  keadaan.skema = skema.data;
  isiPilihan();
  const terbuka = await muatSesi();
  if (!terbuka) {
    tampilkanBuka();
    return;
  }
  await arahkan();
}

document.addEventListener("DOMContentLoaded", mulai);
