//! The common words of complaints: what a complaint is about (roads, water, documents, money, schools),
//! where in general (street, market, school) and when, as opposed to the names and numbers that say
//! which street, which school, which RT. A token outside this list is *specific*: a place or person
//! name, a number, a rare word. The signature keeps the two kinds apart (minhash.rs), so that two
//! complaints must agree on both what and where to be called duplicates.
//!
//! The words are normalised forms (normalise.rs: expanded, stemmed). A longer word one edit away from a
//! common word is read as that word ([`correct`]), so `verifiksi` is `verifikasi`, not a name.

/// True when `word` (normalised) is a common complaint word, not a name or number.
pub fn is_common(word: &str) -> bool {
    COMMON.binary_search(&word).is_ok()
}

/// The list's own copy of `word`, when it is common.
pub fn common(word: &str) -> Option<&'static str> {
    COMMON.binary_search(&word).ok().map(|i| COMMON[i])
}

/// The common word one edit (insertion, deletion, substitution or swap of neighbours) away from `word`,
/// for words of six letters or more that are not common themselves, keeping the first two letters (so
/// fewer names are taken for words: `kenangan` stays a name, not `genangan`); the first in alphabetical
/// order. Some names still are (`rahmah` → `ramah`); both sides of a pair read them the same way.
pub fn correct(word: &str) -> Option<&'static str> {
    let w: Vec<char> = word.chars().collect();
    if w.len() < 6 || is_common(word) || w.iter().any(char::is_ascii_digit) {
        return None;
    }
    // The words sharing the first two letters are one run of the sorted list.
    let head: String = w[..2].iter().collect();
    let from = COMMON.partition_point(|c| *c < head.as_str());
    COMMON[from..].iter().copied().take_while(|c| c.starts_with(head.as_str())).find(|c| {
        let c: Vec<char> = c.chars().collect();
        c.len() >= 5 && one_edit(&w, &c)
    })
}

/// Whether `a` and `b` differ by exactly one insertion, deletion, substitution or swap of neighbours.
fn one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match diff.as_slice() {
                [_] => true,
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short[i..] == long[i + 1..]
        }
        _ => false,
    }
}

/// Sorted (a test checks), for the binary search.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    "ada", "aduan", "air", "aju", "akhir", "akibat", "akta", "alasan", "alir", "amblas", "ambulans", "anak",
    "anggaran", "angkot", "angkut", "angkutan", "antre", "antrean", "antri", "antrian", "aparat", "area", "asap",
    "aspal", "atap", "atas", "ayah", "badan", "bagus", "bahaya", "bahayakan", "bahu", "baik", "baiki", "bakar",
    "bandara", "bangunan", "banjir", "bansos", "bantuan", "banyak", "bapak", "baru", "batuk", "bau", "bayar",
    "beberapa", "becek", "beda", "begal", "belakang", "beli", "belum", "bengkel", "bentak", "berhenti", "beri",
    "berisik", "berkas", "bersih", "bertanya", "berubah", "besar", "betis", "biar", "biarkan", "biaya", "bikin",
    "bisa", "blangko", "blok", "blt", "bocor", "bos", "bpjs", "buang", "buat", "buka", "bukti", "bulan", "buruk",
    "bus", "busuk", "cair", "calo", "capek", "cemari", "cepat", "cetak", "coklat", "copot", "cuek", "cuma", "daerah",
    "daftar", "dalam", "dana", "dangkal", "dari", "data", "datang", "dateng", "dekat", "delapan", "dengan", "depan",
    "deras", "desa", "di", "dilayani", "dinas", "dirikan", "dishub", "distribusi", "dlh", "dokter", "domisili",
    "dpmptsp", "dua", "dukcapil", "elektronik", "empat", "enam", "evakuasi", "fiber", "gaji", "gali", "galian",
    "gang", "ganggu", "gangguan", "gantung", "gelap", "gelombang", "genang", "genangan", "gereja", "gimana", "gratis",
    "gudang", "gulita", "guru", "habis", "hadap", "hadir", "halte", "hampir", "hanya", "hari", "hasil", "henti",
    "hidup", "hilang", "hipertensi", "hitam", "honor", "hujan", "ibu", "igd", "ijazah", "inap", "info", "informasi",
    "internet", "izin", "jadi", "jadwal", "jalan", "jalanan", "jalur", "jam", "janda", "janji", "jarak", "jatuh",
    "jawab", "jelas", "jelek", "jembatan", "jerigen", "jualan", "juntai", "juru", "juta", "kabar", "kabel",
    "kabupaten", "kadang", "kakek", "kaki", "kali", "kamar", "kampung", "kampus", "kantor", "kapal", "kapan",
    "kaporit", "karcis", "kartu", "kasih", "kata", "katering", "kaya", "kayak", "ke", "keberatan", "kebersihan",
    "kecelakaan", "kecil", "kecoklatan", "kecukupan", "kejahatan", "kejelasan", "kelahiran", "kelas", "keluar",
    "keluarga", "keluhan", "kelupas", "kemacetan", "kemana", "kemarin", "kematian", "kemudian", "kenapa", "kendala",
    "kendaraan", "kepastian", "keputusan", "keras", "kerja", "keruh", "keruk", "kerusakan", "kesulitan", "ketentuan",
    "keterangan", "keterlambatan", "ketik", "kios", "kirim", "kk", "kok", "kondisi", "kontraktor", "koperasi",
    "korupsi", "kosong", "kotor", "ktp", "kualitas", "kumuh", "kunjung", "kurang", "kwitansi", "lagi", "lahir",
    "lain", "lalat", "lalu", "lalui", "lama", "lambat", "lampu", "lanjut", "lansia", "lapak", "lapuk", "layak",
    "layanan", "layani", "lebar", "lebat", "lebih", "legalisir", "lengkap", "lepas", "lewat", "liar", "light",
    "lihat", "lima", "limbah", "lingkungan", "lintang", "lintas", "listrik", "lokasi", "loket", "lolos", "lorong",
    "luap", "luar", "lubang", "luber", "lumpur", "lutut", "macet", "makan", "malah", "malam", "mampu", "mana",
    "mandi", "mangkal", "masa", "masalah", "masjid", "masuk", "masyarakat", "mati", "mau", "menit", "menunggu",
    "merah", "meter", "meteran", "minggu", "minta", "miring", "miskin", "mobil", "mogok", "mohon", "motor", "mulai",
    "mulu", "murid", "nama", "nanti", "napas", "negeri", "nenek", "ngetem", "nib", "nyala", "obat", "ojek", "oknum",
    "online", "optik", "orang", "oss", "pabrik", "pada", "pagi", "pajak", "pakai", "paksa", "panjang", "papan",
    "parah", "parkir", "pasar", "pasien", "paving", "pbb", "pdam", "pedagang", "pejalan", "pekan", "pelabuhan",
    "pelayanan", "pembakaran", "pembangunan", "pembayaran", "pemberitahuan", "pembuangan", "pemerintah", "penanganan",
    "penataan", "pencemaran", "pencetakan", "pendek", "pendidikan", "penerima", "penertiban", "pengaduan",
    "pengajuan", "pengangkutan", "pengantar", "pengendara", "pengerukan", "pengguna", "penghubung", "pengunjung",
    "penuh", "penyakit", "percepatan", "perekaman", "perempatan", "perhubungan", "periksa", "permohonan", "pernah",
    "perosok", "perpisahan", "perumahan", "pete", "petugas", "pindah", "pindahan", "pinggir", "pip", "pkh", "plafon",
    "pln", "pohon", "poli", "pompa", "potong", "pp", "ppdb", "proses", "provinsi", "proyek", "pu", "pungli", "pungut",
    "pungutan", "puskesmas", "ramah", "rawan", "rawat", "rekam", "rekening", "rendam", "resmi", "respon", "respons",
    "retak", "retribusi", "ribu", "rob", "roboh", "rp", "rsud", "rt", "ruang", "rumah", "runtuh", "rusak", "rw",
    "saat", "sakit", "salah", "saluran", "sama", "sampah", "sampai", "samping", "samsat", "sasaran", "satpol", "satu",
    "sayur", "sd", "sebagian", "sebelah", "sebuah", "sebulan", "sedangkan", "sedikit", "segera", "seharus",
    "seharusnya", "sehingga", "sejak", "sekitar", "sekolah", "selalu", "selama", "selesai", "selutut", "semakin",
    "semalam", "sembarangan", "sembilan", "sementara", "seminggu", "sempit", "semua", "sengat", "sepanjang",
    "separuh", "sepuluh", "seragam", "sering", "serta", "sesak", "setengah", "setiap", "siang", "simpang", "sini",
    "sinyal", "siswa", "sma", "smk", "smp", "soal", "sore", "sosial", "spbu", "spp", "stadion", "stasiun", "status",
    "suap", "suara", "subuh", "sudah", "sulit", "sumbat", "sungai", "surat", "suruh", "susah", "swasta", "syarat",
    "tabrak", "tabrakan", "tadi", "tagihan", "tahan", "tahap", "tahu", "tahun", "taksi", "takut", "taman", "tambal",
    "tangani", "tanggal", "tanggapan", "tangki", "tanpa", "tanya", "tarif", "tarik", "tata", "tegangan", "telantar",
    "telantarkan", "telat", "tempat", "tender", "tengah", "tepat", "terang", "terbit", "terima", "terlambat",
    "terminal", "terpaksa", "tertibkan", "terus", "tetap", "tiang", "tiap", "tidak", "tidur", "tiga", "timbulkan",
    "tindak", "tindaklanjuti", "tinggal", "tinggi", "titik", "toko", "tolak", "tolong", "total", "tpa", "tps",
    "traffic", "transparan", "trotoar", "truk", "tua", "tujuh", "tulis", "tumbang", "tumpah", "tumpuk", "tunda",
    "tunggakan", "tunggu", "tutup", "uang", "ubah", "ujung", "ulang", "untuk", "urus", "usaha", "verifikasi", "wajib",
    "wajibkan", "waktu", "warga", "warna", "warung", "wilayah", "yang", "zonasi",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn typos_of_common_words_are_corrected_names_are_not() {
        assert_eq!(correct("verifiksi"), Some("verifikasi"));
        assert_eq!(correct("sampahh"), Some("sampah"));
        assert_eq!(correct("kenangan"), None);
        assert_eq!(correct("kecelakan"), Some("kecelakaan"));
        assert_eq!(correct("majapahit"), None);
        assert_eq!(correct("sampah"), None);
        assert_eq!(correct("60830"), None);
    }
}
