// The office app in a real browser: `teduh app` on a fresh test store, driven through
// headless Chromium (puppeteer-core; nothing is downloaded). A worker unlocks the store,
// files a complaint, finds it in Daftar kasus (search and filters) and opens it; two offices
// then refer, accept, settle a conflict, close, print (PDF) and download the report (CSV,
// Excel). The pages are checked for their Indonesian texts, for Content-Security-Policy
// violations and script errors, and with axe-core for accessibility. A screenshot of every
// page, and the PDF of every print view, lands in BUILD_DIR/screenshots/.
//   node app_browser_test.mjs BUILD_DIR
// Exit 0: passed; 1: failed; 77: skipped (no Chromium or no node_modules: run `npm ci`).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
const build = path.resolve(process.argv[2] || path.join(here, "..", "..", "build"));
const chromium = process.env.TEDUH_CHROMIUM || "/usr/bin/chromium";
const teduh = path.join(build, "client", "teduh");
const teduhd = path.join(build, "server", "teduhd");
const shots = path.join(build, "screenshots");

if (!existsSync(chromium)) {
  console.log(`SKIP: ${chromium} is missing (apt-get install chromium, or scripts/install-deps.sh)`);
  process.exit(SKIP);
}
if (!existsSync(path.join(here, "node_modules", "puppeteer-core"))) {
  console.log("SKIP: tests/browser/node_modules is missing (run `npm ci` in tests/browser)");
  process.exit(SKIP);
}
const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const passphrase = "ikan-paus-terbang-sore-uji";
const victim = { name: "Warga Peramban Uji", nik: "3275014101900009" };
const env = {
  ...process.env,
  TEDUH_KDF: "interactive",
  TEDUH_TEST_STORES: "1",
  TEDUH_SERVER_PASSPHRASE: "lampu-jalan-berbisik-pelan-uji",
  TEDUH_ADMIN_PASSPHRASE: "mangga-layang-sepeda-kabut-uji",
  TEDUH_PASSPHRASE: passphrase,
};

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures += 1;
    console.log(`FAIL ${what}`);
  }
}

function run(program, args) {
  const r = spawnSync(program, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${path.basename(program)} ${args[0]} failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").pop();
}

// A test store, made with the CLI like the other tests make theirs.
function makeStore(dir) {
  const data = path.join(dir, "server");
  const key = run(teduhd, ["init", "--data", data, "--admin-key", path.join(dir, "admin.key")]);
  run(teduhd, ["office", "add", "--data", data, "--code", "UJI-DP3A", "--name", "Dinas Uji", "--kind", "dinas"]);
  const code = run(teduhd, ["enroll", "--data", data, "--office", "UJI-DP3A", "--user", "petugas-uji", "--role", "pendamping"]);
  const store = path.join(dir, "kantor.db");
  run(teduh, ["init", "--store", store, "--server", "127.0.0.1:9", "--server-key", key, "--enroll", code]);
  return store;
}

// `teduhd serve` on 127.0.0.1, port 0; resolves with its address once it listens.
function startServer(data) {
  const child = spawn(teduhd, ["serve", "--data", data, "--listen", "127.0.0.1:0"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.on("data", (d) => process.stderr.write(`[teduhd] ${d}`));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const prefix = "teduhd listening on ";
      if (!line.startsWith(prefix)) reject(new Error(`teduhd said: ${line}`));
      resolve({ child, address: line.slice(prefix.length) });
    });
    child.once("exit", (code) => reject(new Error(`teduhd exited (${code}) before listening`)));
  });
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

function startApp(store) {
  const appEnv = { ...env };
  delete appEnv.TEDUH_PASSPHRASE;  // the app takes it in the page only
  const child = spawn(teduh, ["app", "--store", store, "--no-browser", "--port", "0"], {
    env: appEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr.on("data", (d) => process.stderr.write(`[teduh app] ${d}`));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (url) => resolve({ child, url }));
    child.once("exit", (code) => reject(new Error(`teduh app exited (${code}) before printing its address`)));
  });
}

// The files of a zip archive by name, read through its central directory and inflated:
// enough to open an .xlsx without a library.
function unzip(buf) {
  let end = buf.length - 22;
  while (end >= 0 && buf.readUInt32LE(end) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error("not a zip: no end of central directory");
  const files = new Map();
  let at = buf.readUInt32LE(end + 16);
  for (let i = buf.readUInt16LE(end + 10); i > 0; i -= 1) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error("not a zip: broken central directory");
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLength);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    files.set(name, method === 0 ? data : inflateRawSync(data));
    at += 46 + nameLength + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return files;
}

function xmlText(s) {
  return s.replace(/<[^>]+>/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

// The first sheet of an .xlsx as rows of {A: text, B: text, ...} (shared strings resolved).
function sheetRows(xlsx) {
  const files = unzip(xlsx);
  const shared = [...(files.get("xl/sharedStrings.xml") || "").toString("utf8").matchAll(/<si>(.*?)<\/si>/gs)].map((m) => xmlText(m[1]));
  const sheet = files.get("xl/worksheets/sheet1.xml").toString("utf8");
  const rows = [];
  for (const row of sheet.matchAll(/<row [^>]*>(.*?)<\/row>/gs)) {
    const cells = {};
    for (const c of row[1].matchAll(/<c r="([A-Z]+)\d+"([^>]*?)(?:\/>|>(.*?)<\/c>)/gs)) {
      const v = /<v>(.*?)<\/v>/s.exec(c[3] || "");
      if (!v) continue;
      cells[c[1]] = /t="s"/.test(c[2]) ? shared[Number(v[1])] : xmlText(v[1]);
    }
    rows.push(cells);
  }
  return { files, rows };
}

// CSV rows (RFC 4180 quoting) as arrays of fields.
function csvRows(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(field); field = ""; } else if (ch === "\n") { row.push(field); rows.push(row); row = []; field = ""; } else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// The report's table in an .xlsx (below the header row "Kelompok, Kode, Uraian, Jumlah,
// Tanda") as the CSV's columns code,label,count,mark, to compare with the CSV's.
function xlsxTable(rows) {
  const header = rows.findIndex((r) => r.A === "Kelompok" && r.B === "Kode" && r.C === "Uraian" && r.D === "Jumlah" && r.E === "Tanda");
  if (header < 0) return null;
  return rows.slice(header + 1).map((r) => [r.B || "", r.C || "", r.D || "", r.E || ""].join("|"));
}

async function visible(page, selector) {
  await page.waitForSelector(selector, { visible: true, timeout: 15000 });
}

async function text(page, selector) {
  return page.$eval(selector, (e) => e.innerText);
}

// axe-core over the page as it is; serious and critical findings fail the test. Run
// through the DevTools protocol, which the page's CSP does not govern.
async function accessible(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }));
  });
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`     axe ${name}: ${v.impact} ${v.id} ${v.nodes.join(", ")}`);
  check(serious.length === 0, `${name}: no serious accessibility findings (axe-core)`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

// A print view (#/cetak/...) once drawn: its text holds the expected headings and the case
// number; on paper the app's own controls are gone; "Cetak" opens the browser's print; and
// page.pdf() renders it as an A4 PDF (the page's @page size), saved beside the screenshots.
async function printView(page, name, expected) {
  await visible(page, "#lembar-cetak");
  await page.waitForFunction(() => document.getElementById("tanda-tangan").childElementCount > 0);
  const body = await page.$eval("#lembar-cetak", (e) => e.textContent);
  const missing = expected.filter((h) => !body.includes(h));
  check(missing.length === 0, `${name}: the print view holds ${expected.join(" | ")}${missing.length ? " (missing: " + missing.join(" | ") + ")" : ""}`);
  await shot(page, name);
  await accessible(page, name);
  await page.evaluate(() => {
    window.dicetak = 0;
    window.print = () => { window.dicetak += 1; };
  });
  await page.click("#tombol-cetak");
  check((await page.evaluate(() => window.dicetak)) === 1, `${name}: the Cetak button opens the browser's print`);
  await page.emulateMediaType("print");
  const onPaper = await page.evaluate(() => ["#menu", ".alat-cetak", ".kepala"].map((s) => getComputedStyle(document.querySelector(s)).display));
  // The sheet as on paper: A4's width inside the 12 mm margins (186 mm at 96 dpi).
  await page.setViewport({ width: 703, height: 1031 });
  await shot(page, `${name}-kertas`);
  await page.setViewport({ width: 1366, height: 768 });
  await page.emulateMediaType(null);
  check(onPaper.every((d) => d === "none"), `${name}: on paper only the sheet is printed (menu, buttons and header hidden)`);
  const pdf = Buffer.from(await page.pdf({ preferCSSPageSize: true, printBackground: true }));
  writeFileSync(path.join(shots, `${name}.pdf`), pdf);
  const box = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf.toString("latin1"));
  const a4 = box && Math.abs(Number(box[1]) - 595.3) < 2 && Math.abs(Number(box[2]) - 841.9) < 2;
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  check(pdf.subarray(0, 5).toString("latin1") === "%PDF-" && pdf.length > 5000 && a4,
    `${name}: page.pdf() renders it as an A4 PDF (${pdf.length} bytes, ${pages} page(s), ${box ? box[1] + "x" + box[2] + " pt" : "no MediaBox"})`);
}

// Two offices on a real teduhd, each with its own app in its own browser context (two
// offices' laptops): an intake at A, referred to B;
// both sync from the page ("Sinkronkan sekarang", in the background); B accepts from its
// Beranda's link; both change the risk level before syncing again; A settles the conflict
// on the Konflik page with one click.
async function twoOffices(browser, dir, problems) {
  const data = path.join(dir, "server2");
  const key = run(teduhd, ["init", "--data", data, "--admin-key", path.join(dir, "admin2.key")]);
  run(teduhd, ["office", "add", "--data", data, "--code", "UJI-A", "--name", "Dinas Uji A", "--kind", "dinas"]);
  run(teduhd, ["office", "add", "--data", data, "--code", "UJI-B", "--name", "Dinas Uji B", "--kind", "dinas"]);
  const server = await startServer(data);
  const apps = [];
  try {
    const offices = {};
    for (const [kode, user] of [["UJI-A", "petugas-a"], ["UJI-B", "petugas-b"]]) {
      const code = run(teduhd, ["enroll", "--data", data, "--office", kode, "--user", user, "--role", "pendamping"]);
      const store = path.join(dir, `${kode}.db`);
      run(teduh, ["init", "--store", store, "--server", server.address, "--server-key", key, "--enroll", code]);
      const app = await startApp(store);
      apps.push(app);
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width: 1366, height: 768 });
      page.on("console", (m) => {
        // The one refusal the scenario provokes (a wrong value, 422) logs a failed load.
        if (m.type() !== "error" || /Failed to load resource: .* 422/.test(m.text())) return;
        problems.push(`${kode} console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`${kode} script error: ${e.message}`));
      await page.goto(app.url, { waitUntil: "networkidle0" });
      await visible(page, "#halaman-buka");
      await page.type("#kata-sandi", passphrase);
      await page.keyboard.press("Enter");
      await visible(page, "#halaman-beranda");
      offices[kode] = page;
    }
    const a = offices["UJI-A"];
    const b = offices["UJI-B"];

    // Sinkronkan sekarang: runs on the app's thread; the page polls until it ends.
    async function sync(page, name) {
      await page.click('a[data-halaman="beranda"]');
      await visible(page, "#halaman-beranda");
      await page.click("#tombol-sinkron");
      await page.waitForFunction(() => /Sinkronisasi (selesai|gagal)/.test(document.getElementById("status-sinkron").textContent), { timeout: 30000 });
      const status = await text(page, "#status-sinkron");
      check(status.startsWith("Sinkronisasi selesai"), `${name}: Sinkronkan sekarang ends well (${status})`);
      return status;
    }
    await sync(a, "UJI-A");
    await sync(b, "UJI-B");
    check((await text(a, "#sinkron-terakhir")) !== "Belum pernah", "Beranda shows when the last sync ended");

    // The intake at A, then the referral to B from the case page.
    await a.click('a[data-halaman="baru"]');
    await visible(a, "#halaman-baru");
    await a.select("#channel", "datang_langsung");
    await a.type("#korban-name", "Warga Rujukan Uji");
    await a.select("#korban-sex", "P");
    await a.type("#korban-age", "25");
    await a.click("#form-baru button[type=submit]");
    await visible(a, "#halaman-kasus");
    const caseUrl = a.url();
    await a.click("#tindakan-rujuk summary");
    await visible(a, "#form-rujuk");
    await a.waitForFunction(() => document.querySelectorAll("#rujuk-kantor option").length > 1);
    const choices = await a.$$eval("#rujuk-kantor option", (os) => os.map((o) => o.value));
    check(choices.includes("UJI-B") && !choices.includes("UJI-A"), "the referral's choices are the directory's other offices");
    check(!(await a.$eval("#wadah-rujuk-mitra", (e) => e.offsetParent !== null)), "the partner's name is asked only for a partner outside Teduh");
    await a.select("#rujuk-kantor", "UJI-B");
    await a.type("#rujuk-alasan", "Pendampingan lanjutan di kantor B.");
    await a.click("#form-rujuk button[type=submit]");
    await visible(a, "#galat-rujuk");
    check((await text(a, "#galat-rujuk")).includes("setuju"), "a referral without the consent question answered is stopped in the page");
    await a.click("#rujuk-setuju-ya");
    await a.select("#rujuk-oleh", "korban");
    await shot(a, "11-rujuk");
    await accessible(a, "Kasus: rujuk");
    await a.click("#form-rujuk button[type=submit]");
    await a.waitForFunction(() => (document.getElementById("pesan-berhasil") || {}).textContent?.includes("Rujukan ke UJI-B dicatat"));
    check(true, "the referral is recorded and announced");
    check((await text(a, "#rujukan-kasus")).includes("UJI-B"), "Kasus lists the referral");
    await sync(a, "UJI-A");

    // B: the referral arrives; Beranda links to the case, where B accepts it.
    await sync(b, "UJI-B");
    await visible(b, "#tabel-menunggu");
    const waiting = await text(b, "#tabel-menunggu");
    check(waiting.includes("Masuk: jawab di halaman kasus") && waiting.includes("UJI-A"), "B's Beranda lists the incoming referral");
    await shot(b, "12-beranda-rujukan-masuk");
    await b.click("#tabel-menunggu tbody td:nth-child(3) a");
    await visible(b, "#jawab-kasus");
    check((await text(b, "#jawab-kasus")).includes("Rujukan dari kantor UJI-A"), "the case page asks B to answer");
    await accessible(b, "Kasus: perlu jawaban");
    await shot(b, "13-kasus-perlu-jawaban");
    const accept = await b.$$("#daftar-jawab button");
    await accept[0].click();
    await b.waitForFunction(() => (document.getElementById("pesan-berhasil") || {}).textContent?.includes("Rujukan diterima"));
    check(await b.$eval("#jawab-kasus", (e) => e.hidden), "once accepted, nothing waits for B's answer");

    // Both change the risk level before syncing: a conflict.
    async function setRisk(page, value) {
      await page.click("#tindakan-ubah summary");
      await visible(page, "#form-ubah");
      await page.select("#ubah-kolom", "risk_level");
      await page.waitForSelector("select#ubah-nilai");
      await page.select("#ubah-nilai", value);
      await page.click("#form-ubah button[type=submit]");
      await page.waitForFunction(() => (document.getElementById("pesan-berhasil") || {}).textContent?.includes("diubah"));
    }
    await setRisk(b, "tinggi");
    await a.goto(caseUrl, { waitUntil: "networkidle0" });
    await visible(a, "#halaman-kasus");
    await setRisk(a, "rendah");
    check((await text(a, "#ringkasan-kasus")).includes("Rendah"), "the change shows on the case page");
    await shot(a, "14-kasus-diubah");
    await sync(b, "UJI-B");
    await sync(a, "UJI-A");
    check((await text(a, "#jumlah-konflik")) === "1", "A's Beranda counts the conflict");
    check((await text(a, "#sinkron-hasil")).includes("konflik baru 1"), "Beranda says what the last sync brought");
    await shot(a, "15-beranda-setelah-sinkron");

    // Konflik: both values side by side, with who, office and when; one click settles.
    await a.click("#tautan-konflik a");
    await visible(a, "#halaman-konflik");
    const konflik = await text(a, "#daftar-konflik");
    check(konflik.includes("Tinggi") && konflik.includes("Rendah") && konflik.includes("petugas-a") &&
      konflik.includes("petugas-b") && konflik.includes("kantor UJI-B"), "Konflik shows both values with who and which office");
    await shot(a, "16-konflik");
    await accessible(a, "Konflik");
    const values = await a.$$eval("#daftar-konflik .nilai-konflik", (ns) => ns.map((n) => n.querySelector(".isi").textContent));
    const keep = values.indexOf("Tinggi");
    const buttons = await a.$$("#daftar-konflik .nilai-konflik button");
    await buttons[keep].click();
    await visible(a, "#konflik-kosong");
    check((await text(a, "#daftar-konflik")).includes("selesai"), "settling is announced");
    await a.goto(caseUrl, { waitUntil: "networkidle0" });
    await visible(a, "#halaman-kasus");
    check((await text(a, "#ringkasan-kasus")).includes("Tinggi") && (await a.$eval("#peringatan-konflik", (e) => e.hidden)),
      "the kept value shows and the case is no longer in conflict");
    await shot(a, "17-kasus-setelah-konflik");

    // A wrong value is refused with the field linked; then the case is closed (terminasi),
    // by keyboard: Enter on an action's summary opens it.
    await a.click("#tindakan-ubah summary");
    await a.select("#ubah-kolom", "korban.age");
    await a.type("#ubah-nilai", "200");
    await a.click("#form-ubah button[type=submit]");
    await visible(a, "#galat-ubah");
    const galatUbah = await text(a, "#galat-ubah");
    check(galatUbah.includes("Isian belum benar") && galatUbah.includes("Periksa: Isi baru"), `a wrong value is refused, the field linked (${galatUbah.split("\n")[0]})`);
    await a.focus("#tindakan-tutup summary");
    await a.keyboard.press("Enter");
    check(await a.$eval("#tindakan-tutup", (e) => e.open), "Enter on an action's summary opens its form");
    await a.type("#tutup-alasan", "Layanan selesai, korban aman.");
    await a.click("#form-tutup button[type=submit]");
    await a.waitForFunction(() => (document.getElementById("pesan-berhasil") || {}).textContent?.includes("ditutup"));
    check((await text(a, "#ringkasan-kasus")).includes("Terminasi"), "the case is closed (terminasi)");
    check(await a.$eval("#tindakan-tutup", (e) => e.hidden), "a closed case offers no second closure");

    // Cetak: the intake form, the referral letter and the termination form, each an A4 view
    // with the office's letterhead and signature blocks, rendered to PDF.
    const nomor = (await text(a, "#judul-kasus")).replace(/^Kasus /, "");
    check(/^UJI-A\//.test(nomor), `the case number to print (${nomor})`);
    await a.click("#cetak-pengaduan");
    await printView(a, "20-cetak-formulir-pengaduan", ["Formulir Pengaduan", "Nomor kasus: " + nomor, "Dinas Uji A", "Kode kantor UJI-A",
      "A. Data pengaduan", "B. Identitas korban", "Warga Rujukan Uji", "E. Kronologi kejadian", "Petugas penerima pengaduan", "petugas-a"]);
    check(/#\/cetak\/pengaduan\/[0-9a-f]{32}$/.test(a.url()), "the print view's address holds the case id only");
    await a.click("#kembali-cetak");
    await visible(a, "#halaman-kasus");
    await a.click(".cetak-rujukan a");
    await printView(a, "21-cetak-surat-rujukan", ["Surat Rujukan", "Nomor kasus: " + nomor, "Dinas Uji B (UJI-B)", "Identitas korban",
      "Pendampingan lanjutan di kantor B.", "Persetujuan korban diberikan oleh", "Petugas perujuk", "Kepala Dinas Uji A"]);
    await a.click("#kembali-cetak");
    await visible(a, "#halaman-kasus");
    await a.click("#cetak-terminasi");
    await printView(a, "22-cetak-penutupan-kasus", ["Formulir Penutupan Kasus (Terminasi)", "Nomor kasus: " + nomor, "Layanan selesai, korban aman.",
      "Waktu kasus ditutup", "C. Layanan yang diberikan", "D. Rujukan", "Pendamping kasus", "Mengetahui, Kepala Dinas Uji A"]);

    // Laporan: this month's report of `teduh report`, its chart, and its CSV to download.
    await a.click('a[data-halaman="laporan"]');
    await visible(a, "#isi-laporan");
    const laporan = await text(a, "#teks-laporan");
    check(laporan.length > 0 && !laporan.includes("Warga Rujukan Uji"), "Laporan shows the month's counts, no name");
    await a.waitForFunction(() => document.getElementById("grafik-laporan").complete && document.getElementById("grafik-laporan").naturalWidth > 0);
    check(true, "the report's chart loads as an image");
    const csv = await a.evaluate(async () => {
      const r = await fetch(document.getElementById("unduh-csv").href, { credentials: "same-origin" });
      return { type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition"), body: await r.text() };
    });
    check(csv.type.startsWith("text/csv") && /attachment; filename="laporan-UJI-A-\d{4}-\d{2}-01-/.test(csv.disposition) &&
      csv.body.startsWith("category,code,label,count,mark\ntotal_cases,,Jumlah kasus,1,"), `the CSV downloads with this month's one case (${csv.body.split("\n")[1]})`);
    await shot(a, "18-laporan");
    await accessible(a, "Laporan");

    // Unduh Excel: the browser downloads a real .xlsx (a zip with xl/workbook.xml) whose
    // table holds the CSV's rows and figures, under Indonesian headers; then the same for
    // the report that leaves the office, whose small cells keep a mark and no number.
    const downloads = path.join(dir, "unduhan");
    mkdirSync(downloads, { recursive: true });
    const cdp = await a.createCDPSession();
    await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads, browserContextId: a.browserContext().id });
    const xlsxHref = await a.$eval("#unduh-xlsx", (e) => e.getAttribute("href"));
    check(/^\/api\/laporan\?dari=\d{4}-\d{2}-01&sampai=\d{4}-\d{2}-\d{2}&publik=0&bentuk=xlsx$/.test(xlsxHref), `the Excel link carries dates only (${xlsxHref})`);
    await a.click("#unduh-xlsx");
    let saved = [];
    for (let i = 0; i < 150 && saved.length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      saved = readdirSync(downloads).filter((f) => f.endsWith(".xlsx"));
    }
    check(saved.length === 1 && /^laporan-UJI-A-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.xlsx$/.test(saved[0]), `Unduh Excel downloads the workbook (${saved.join(", ")})`);
    async function compareExcel(publik) {
      const got = await a.evaluate(async (publikFlag) => {
        const href = document.getElementById("unduh-xlsx").getAttribute("href").replace("publik=0", "publik=" + publikFlag);
        const x = await fetch(href, { credentials: "same-origin" });
        const c = await fetch(href.replace("bentuk=xlsx", "bentuk=csv"), { credentials: "same-origin" });
        const bytes = new Uint8Array(await x.arrayBuffer());
        let bin = "";
        for (const b of bytes) bin += String.fromCharCode(b);
        return {
          type: x.headers.get("content-type"), cache: x.headers.get("cache-control"),
          disposition: x.headers.get("content-disposition"), xlsx: btoa(bin), csv: await c.text(),
        };
      }, publik);
      const xlsx = Buffer.from(got.xlsx, "base64");
      const { files, rows } = sheetRows(xlsx);
      const table = xlsxTable(rows);
      const csv = csvRows(got.csv).slice(1).map((r) => [r[1], r[2], r[3], r[4]].join("|"));
      const name = publik === "1" ? "the report leaving the office" : "the office's report";
      check(got.type === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" && got.cache === "no-store" &&
        /attachment; filename="laporan-UJI-A-[0-9-]+\.xlsx"/.test(got.disposition), `${name}: the Excel answer is an xlsx attachment, not cached`);
      check(xlsx.subarray(0, 4).toString("binary") === "PK\x03\x04" && files.has("xl/workbook.xml"), `${name}: the download is a zip with xl/workbook.xml (${xlsx.length} bytes, ${files.size} files)`);
      check(table !== null && table.length === csv.length && table.every((r, i) => r === csv[i]),
        `${name}: the workbook's ${table ? table.length : 0} rows match the CSV's ${csv.length} (first: ${table && table[0]})`);
      return table || [];
    }
    const exact = await compareExcel("0");
    check(exact[0] === "|Jumlah kasus|1|", "the workbook counts this month's one case");
    const outside = await compareExcel("1");
    check(outside[0] === "|Jumlah kasus||<5", "leaving the office, the one case is marked <5 with no number");

    // Cetak laporan: the month's report as an A4 sheet, its table the CSV's rows.
    await a.click("#cetak-laporan");
    await a.waitForFunction(() => { const g = document.querySelector("#isi-cetak img"); return g && g.complete && g.naturalWidth > 0; });
    await printView(a, "23-cetak-laporan", ["Laporan Bulanan Kasus Kekerasan terhadap Perempuan dan Anak", "Periode: ", "Dinas Uji A",
      "Jumlah kasus", "Bentuk kekerasan", "Dibuat oleh", "Mengetahui, Kepala Dinas Uji A"]);
    const printedRows = await a.$$eval("#isi-cetak table tbody tr:not(:has(td.kelompok))", (rs) => rs.length);
    check(printedRows === exact.length, `the printed report has the CSV's ${exact.length} rows (${printedRows})`);
    check(!(await a.$eval("#lembar-cetak", (e) => e.textContent)).includes("Warga Rujukan Uji"), "the printed report holds no name");
  } finally {
    for (const app of apps) await stop(app.child);
    await stop(server.child);
  }
}

async function main() {
  mkdirSync(shots, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), "teduh-browser-"));
  const profile = path.join(dir, "chromium-profile");
  let app;
  let browser;
  try {
    const store = makeStore(dir);
    app = await startApp(store);
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: profile,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=id-ID",
      ],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1366, height: 768 });
    const problems = [];
    // Refusals the test provokes (403 wrong passphrase, 422 invalid NIK) log a failed load;
    // anything else the console reports is a problem.
    let expectedRefusals = 0;
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      if (/Failed to load resource: .* (403|422)/.test(m.text()) && expectedRefusals > 0) {
        expectedRefusals -= 1;
        return;
      }
      problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
    await page.evaluateOnNewDocument(() => {
      document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });

    // The secret address sets the cookie and disappears from the address bar.
    await page.goto(app.url, { waitUntil: "networkidle0" });
    check(new URL(page.url()).pathname === "/" && !page.url().includes("k="), "the secret leaves the address bar");
    await visible(page, "#halaman-buka");
    check((await text(page, "h1")).includes("Buka penyimpanan"), "a locked app asks for the passphrase (Buka penyimpanan)");
    check((await page.$eval("#kata-sandi", (e) => e.getAttribute("autocomplete"))) === "off", "the passphrase field has autocomplete=off");
    await shot(page, "01-buka-penyimpanan");
    await accessible(page, "Buka penyimpanan");

    expectedRefusals += 1;
    await page.type("#kata-sandi", "bukan-kata-sandi-ini");
    await page.keyboard.press("Enter");
    await visible(page, "#galat-buka");
    check((await text(page, "#galat-buka")).includes("Kata sandi salah"), "a wrong passphrase is said so in Indonesian");
    await shot(page, "02-kata-sandi-salah");

    await page.type("#kata-sandi", passphrase);
    await page.keyboard.press("Enter");
    await visible(page, "#halaman-beranda");
    check((await text(page, "#halaman-beranda")).includes("Tidak ada tenggat yang terbuka"), "Beranda of an empty store");
    check((await text(page, "#kantor")).includes("Dinas Uji"), "the header names the office");
    await shot(page, "03-beranda-kosong");
    await accessible(page, "Beranda");

    // Pengaduan baru: first with a NIK that is not one, then right.
    await page.click('a[data-halaman="baru"]');
    await visible(page, "#halaman-baru");
    await shot(page, "04-pengaduan-baru");
    await accessible(page, "Pengaduan baru");
    await page.select("#channel", "telepon");
    await page.type("#korban-name", victim.name);
    await page.type("#korban-nik", "12345");
    expectedRefusals += 1;
    await page.click("#form-baru button[type=submit]");
    await visible(page, "#galat-baru");
    const galat = await text(page, "#galat-baru");
    check(galat.includes("Isian belum benar") && galat.includes("NIK"), "an invalid NIK is refused with an Indonesian sentence naming the field");
    check(galat.includes("Periksa: NIK korban"), "the error summary names the form's field");
    await page.click("#galat-baru a");
    check((await page.evaluate(() => document.activeElement.id)) === "korban-nik", "the error summary's link moves the focus to the field");
    await shot(page, "05-pengaduan-galat");

    await page.$eval("#korban-nik", (e) => { e.value = ""; });
    await page.type("#korban-nik", victim.nik);
    await page.click("#bentuk-fisik");
    await page.click("#bentuk-psikis");
    await page.select("#place", "rumah_tangga");
    await page.select("#korban-sex", "P");
    await page.type("#korban-age", "30");
    await page.type("#chronology", "Kronologi uji yang dibuat oleh tes peramban.");
    await page.type("#terlapor-name", "Terlapor Peramban Uji");
    await page.select("#terlapor-sex", "L");
    await page.select("#terlapor-hubungan", "suami_istri");
    await page.type("#pelapor-name", "Pelapor Peramban Uji");
    await page.type("#pelapor-phone", "081234567890");
    await page.select("#pelapor-hubungan", "tetangga");
    await page.click("#form-baru button[type=submit]");
    await visible(page, "#halaman-kasus");
    const kasus = await text(page, "#halaman-kasus");
    check(kasus.includes("Pengaduan tersimpan sebagai kasus UJI-DP3A/"), "the new case's number is announced");
    check(kasus.includes(victim.name) && kasus.includes("Kekerasan fisik") && kasus.includes("Telepon"), "Kasus shows the victim and the coded fields by their labels");
    check(kasus.includes("Terlapor") && kasus.includes("Suami/istri"), "Kasus shows the alleged perpetrator and the relationship");
    check(kasus.includes("Pelapor") && kasus.includes("Pelapor Peramban Uji") && kasus.includes("Tetangga"), "Kasus shows the reporter and the relationship");
    check(/#\/kasus\/[0-9a-f]{32}$/.test(page.url()), "the address holds the case id only");
    await shot(page, "06-kasus");
    await accessible(page, "Kasus");

    // Daftar kasus: victims by code; a search by name (in a POST body) finds the case.
    await page.click('a[data-halaman="daftar"]');
    await visible(page, "#halaman-daftar");
    await page.waitForFunction(() => document.querySelectorAll("#tabel-kasus tbody tr").length === 1);
    const daftar = await text(page, "#halaman-daftar");
    check(!daftar.includes(victim.name) && /K-[0-9A-F]{4}/.test(daftar), "Daftar kasus shows the victim by code, not by name");
    await shot(page, "07-daftar-kasus");
    await accessible(page, "Daftar kasus");
    await page.type("#cari", "peramban warga");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("jumlah-kasus").textContent.includes("cocok"));
    check((await text(page, "#jumlah-kasus")).startsWith("1 kasus"), "a search by name finds the case");
    check(!page.url().includes("peramban"), "the search is not in the address");
    await page.$eval("#cari", (e) => { e.value = ""; });
    await page.type("#cari", "nama yang tidak ada");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("jumlah-kasus").textContent.includes("Tidak ada"));
    check(true, "a search without a match says so");
    await page.$eval("#cari", (e) => { e.value = ""; });
    await page.type("#cari", victim.nik);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("jumlah-kasus").textContent.startsWith("1 kasus"));
    await page.click("#tabel-kasus tbody a");
    await visible(page, "#halaman-kasus");
    check((await text(page, "#halaman-kasus")).includes(victim.name), "opening the case from the list shows it");

    // Daftar kasus's filters (Workflow::CaseFilter, as `teduh case list --status --petugas
    // --milik-saya --dari --sampai`), sent in the search's POST body. First this worker
    // takes the case (Pendamping kasus), so that "Kasus saya" finds it.
    await page.click("#tindakan-ubah summary");
    await page.select("#ubah-kolom", "assigned_worker");
    await page.waitForSelector("input#ubah-nilai");
    await page.type("#ubah-nilai", "petugas-uji");
    await page.click("#form-ubah button[type=submit]");
    await page.waitForFunction(() => (document.getElementById("pesan-berhasil") || {}).textContent?.includes("diubah"));
    await page.click('a[data-halaman="daftar"]');
    await visible(page, "#halaman-daftar");
    await page.$eval("#cari", (e) => { e.value = ""; });
    const hariIni = await page.evaluate(() => hariIni());
    const besok = new Date(Date.parse(hariIni + "T00:00:00Z") + 86400000).toISOString().slice(0, 10);
    // Sets the filters (unset ones emptied), submits by `how`, and waits for the new count.
    async function saring(isi, how) {
      await page.evaluate((v) => {
        document.getElementById("saring-status").value = v.status || "";
        document.getElementById("saring-petugas").value = v.petugas || "";
        document.getElementById("saring-dari").value = v.dari || "";
        document.getElementById("saring-sampai").value = v.sampai || "";
        document.getElementById("saring-saya").checked = false;
        document.getElementById("saring-petugas").disabled = false;
        document.getElementById("jumlah-kasus").textContent = "";
      }, isi);
      await how();
      await page.waitForFunction(() => document.getElementById("jumlah-kasus").textContent !== "");
      return { rows: await page.$$eval("#tabel-kasus tbody tr", (rs) => rs.length), said: await text(page, "#jumlah-kasus") };
    }
    const cari = () => page.click("#form-cari button[type=submit]");
    let got = await saring({ status: "diterima" }, cari);
    check(got.rows === 1 && got.said.includes("sesuai saringan"), `status Diterima keeps the case (${got.said})`);
    got = await saring({ status: "terminasi" }, cari);
    check(got.rows === 0 && got.said === "Tidak ada kasus yang sesuai saringan.", `status Terminasi keeps none (${got.said})`);
    got = await saring({}, async () => {
      await page.type("#saring-petugas", "petugas-uji");
      await page.keyboard.press("Enter");
    });
    check(got.rows === 1, `the worker typed and Enter keep the worker's case (${got.said})`);
    got = await saring({ petugas: "petugas-lain" }, cari);
    check(got.rows === 0, `another worker's filter keeps none (${got.said})`);
    got = await saring({}, async () => {
      await page.focus("#saring-saya");
      await page.keyboard.press("Space");
    });
    check(got.rows === 1 && (await page.$eval("#saring-petugas", (e) => e.disabled)), `"Kasus saya", checked by keyboard, keeps the case assigned to this user (${got.said})`);
    await shot(page, "07b-daftar-saringan");
    await accessible(page, "Daftar kasus: saringan");
    got = await saring({ dari: hariIni, sampai: hariIni }, cari);
    check(got.rows === 1, `received today: the period ${hariIni} to ${hariIni} keeps it (${got.said})`);
    got = await saring({ dari: besok }, cari);
    check(got.rows === 0, `from tomorrow (${besok}) keeps none (${got.said})`);
    got = await saring({ status: "terminasi" }, async () => {
      await page.type("#cari", victim.nik);
      await cari();
    });
    check(got.rows === 0 && got.said.includes("pencarian dan saringan"), `a search is filtered too (${got.said})`);
    await page.$eval("#cari", (e) => { e.value = ""; });
    got = await saring({ status: "terminasi" }, () => page.click("#hapus-saringan"));
    check(got.rows === 1 && got.said === "1 kasus." && (await page.$eval("#saring-status", (e) => e.value)) === "", `Hapus saringan shows every case again (${got.said})`);
    check(!page.url().includes("petugas") && !page.url().includes(hariIni), "the filters are not in the address");

    // The same victim again: the intake form warns, with a link to the recorded case.
    await page.click('a[data-halaman="baru"]');
    await visible(page, "#halaman-baru");
    await page.type("#korban-nik", victim.nik);
    await page.keyboard.press("Tab");
    await visible(page, "#peringatan-serupa");
    const serupa = await text(page, "#peringatan-serupa");
    check(serupa.includes("NIK yang sama sudah tercatat") && serupa.includes("UJI-DP3A/"), "the intake form warns that the NIK is already recorded");
    await shot(page, "10-korban-serupa");
    await page.$eval("#korban-nik", (e) => { e.value = ""; });

    await page.click('a[data-halaman="beranda"]');
    await visible(page, "#tabel-tenggat");
    check((await text(page, "#tabel-tenggat")).includes("Respons pengaduan"), "Beranda lists the new complaint's response deadline");
    await shot(page, "08-beranda-tenggat");

    // Keyboard: from the top of a freshly loaded page, Tab reaches the skip link first, then
    // the menu; Enter on a menu link opens its page.
    await page.reload({ waitUntil: "networkidle0" });
    await visible(page, "#halaman-beranda");
    await page.keyboard.press("Tab");
    check((await page.evaluate(() => document.activeElement.className)) === "lewati", "the first Tab reaches the skip link");
    let reached = "";
    for (let i = 0; i < 5 && reached !== "daftar"; i += 1) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement.dataset.halaman || "");
    }
    check(reached === "daftar", "Tab reaches the menu");
    await page.keyboard.press("Enter");
    await visible(page, "#halaman-daftar");
    check(true, "Enter on a menu link opens Daftar kasus");

    // Lock from the page: the data leaves the screen.
    await page.click("#tombol-kunci");
    await visible(page, "#halaman-buka");
    check(!(await page.evaluate(() => document.body.innerText)).includes(victim.name) ||
      (await page.$eval("#halaman-kasus", (e) => e.hidden)), "locking hides the case");
    await shot(page, "09-dikunci");

    await twoOffices(browser, dir, problems);

    check(problems.length === 0, `no script errors and no CSP violations${problems.length ? ": " + problems.join("; ") : ""}`);
  } finally {
    if (browser) await browser.close();
    if (app) {
      app.child.kill("SIGTERM");
      await new Promise((r) => app.child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(failures ? `${failures} check(s) failed` : `passed; screenshots in ${shots}`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL ${e.stack || e}`);
  process.exit(1);
});
