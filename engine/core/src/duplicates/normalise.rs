//! Complaint text → normalised tokens, so that a terse SMS, a WhatsApp message and a formal app
//! submission of one complaint come out with the same words.
//!
//! The steps, in order: lower case; split into runs of letters and runs of digits (`rt03` → `rt 3`,
//! `150rb` → `150 ribu`); the `2` of Indonesian reduplication (`berhari2`) is dropped; thousands written
//! out (`Rp150.000`) become `150 ribu`; informal spellings and abbreviations are expanded (one table,
//! [`expand`]); stop words are dropped (one list, [`is_stop`]); light stemming removes the particles
//! `-nya`, `-lah`, `-kah`, `-pun` and, when asked, the prefixes `di-`, `ter-`, `ber-`, `me-` (the `me-`
//! stripping leaves the nasal form people write informally: `mengalir` → `ngalir`, `menumpuk` →
//! `numpuk`, which the table then maps to the root); a token equal to the one before it is dropped
//! (`lampu pju` → `lampu lampu jalan` → `lampu jalan`).
//!
//! A word of five letters or more one edit away from a common word is read as that word (a typo:
//! vocabulary.rs).
//!
//! Numbers are kept, without leading zeros: house numbers, RT/RW, school numbers and amounts tell two
//! complaints apart (RT 03 and RT 05 are different neighbourhoods).

use super::vocabulary;

/// The normalised tokens of `text`. `prefixes` turns on the stripping of `di-`, `ter-`, `ber-`, `me-`.
pub fn tokens(text: &str, prefixes: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in split(&text.to_lowercase()) {
        for word in expand(&raw) {
            let word = stem(word, prefixes);
            for w in expand(&word) {
                if is_stop(w) {
                    continue;
                }
                let w = vocabulary::correct(w).or_else(|| unnasal(w)).unwrap_or(w);
                if is_stop(w) || out.last().is_some_and(|last| last == w) {
                    continue;
                }
                out.push(w.to_owned());
            }
        }
    }
    out
}

/// Splits lower-cased text into letter runs and digit runs, joining digit groups of thousands
/// (`150.000` → `150 ribu`, `2.500.000` → `2500 ribu`) and dropping the reduplication `2`.
fn split(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            words.push(chars[start..i].iter().collect());
            // `oleh2`, `berhari2`: a 2 glued to a word repeats it; the repetition adds nothing.
            if i < chars.len() && chars[i] == '2' && !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()) {
                i += 1;
            }
        } else if ch.is_ascii_digit() {
            let mut digits = String::new();
            while i < chars.len() {
                if chars[i].is_ascii_digit() {
                    digits.push(chars[i]);
                    i += 1;
                } else if (chars[i] == '.' || chars[i] == ',')
                    && chars.get(i + 1..i + 4).is_some_and(|g| g.iter().all(char::is_ascii_digit))
                    && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
                {
                    i += 1; // a thousands separator
                } else {
                    break;
                }
            }
            push_number(&mut words, &digits);
        } else {
            i += 1;
        }
    }
    words
}

/// A number without leading zeros; whole thousands and millions are said in words, as people write them
/// in SMS (`150rb`, `2jt`).
fn push_number(words: &mut Vec<String>, digits: &str) {
    let trimmed = digits.trim_start_matches('0');
    let n = if trimmed.is_empty() { "0" } else { trimmed };
    if n.len() > 6 && n.ends_with("000000") {
        words.push(n[..n.len() - 6].to_owned());
        words.push("juta".to_owned());
    } else if n.len() > 3 && n.ends_with("000") {
        words.push(n[..n.len() - 3].to_owned());
        words.push("ribu".to_owned());
    } else {
        words.push(n.to_owned());
    }
}

/// The standard form of an abbreviation or informal spelling (possibly several words), else the word.
pub fn expand(word: &str) -> Vec<&str> {
    let to: &[&str] = match word {
        "jl" | "jln" | "jaln" => &["jalan"],
        "sby" => &["surabaya"],
        "smg" => &["semarang"],
        "mks" | "mksr" => &["makassar"],
        "mdn" => &["medan"],
        "jpr" => &["jayapura"],
        "ojol" => &["ojek", "online"],
        "hmpir" | "hampir" => &["hampir"],
        "satu" => &["1"],
        "dua" => &["2"],
        "tiga" => &["3"],
        "empat" => &["4"],
        "lima" => &["5"],
        "enam" => &["6"],
        "tujuh" => &["7"],
        "delapan" => &["8"],
        "sembilan" => &["9"],
        "sepuluh" => &["10"],
        "gg" => &["gang"],
        "kec" | "kcmtn" => &["kecamatan"],
        "kel" | "kelur" => &["kelurahan"],
        "kab" => &["kabupaten"],
        "yg" | "yng" => &["yang"],
        "tdk" | "gak" | "ga" | "gk" | "nggak" | "ngga" | "enggak" | "engga" | "ndak" | "kagak" | "tak" => &["tidak"],
        "sdh" | "udh" | "udah" | "dah" | "sudh" => &["sudah"],
        "blm" | "belom" | "blum" => &["belum"],
        "dgn" | "dg" => &["dengan"],
        "krn" | "karna" | "krna" | "gara" => &["karena"],
        "utk" | "untk" | "buat" => &["untuk"],
        "bgt" | "bngt" => &["banget"],
        "trs" => &["terus"],
        "sy" | "aku" | "gue" | "gw" | "sya" => &["saya"],
        "kmrn" | "kemaren" | "kmrin" => &["kemarin"],
        "pdhl" | "padahl" => &["padahal"],
        "pju" => &["lampu", "jalan"],
        "penerangan" => &["lampu"],
        "lmp" => &["lampu"],
        "lobang" | "bolong" | "lubangnya" => &["lubang"],
        "mampet" | "buntu" | "mampat" => &["sumbat"],
        "numpuk" | "tumpukan" => &["tumpuk"],
        "ngalir" => &["alir"],
        "nyala" | "menyala" => &["nyala"],
        "padam" => &["mati"],
        "gede" | "gedhe" => &["besar"],
        "jukir" => &["juru", "parkir"],
        "pkl" => &["pedagang", "kaki", "lima"],
        "rmh" => &["rumah"],
        "rs" => &["rumah", "sakit"],
        "sampe" | "smpe" | "sampai" => &["sampai"],
        "smua" | "semuanya" => &["semua"],
        "malem" | "mlm" => &["malam"],
        "dateng" | "dtg" => &["datang"],
        "dapet" | "dpt" | "dpat" => &["dapat"],
        "gimana" | "gmn" => &["bagaimana"],
        "msh" | "masi" => &["masih"],
        "bln" | "bulan" => &["bulan"],
        "hr" | "hri" => &["hari"],
        "mgg" | "mnggu" | "mingu" => &["minggu"],
        "thn" => &["tahun"],
        "bbrp" => &["beberapa"],
        "dkt" | "deket" | "dket" => &["dekat"],
        "dpn" | "dpan" => &["depan"],
        "blkg" | "belakng" => &["belakang"],
        "sblh" => &["sebelah"],
        "tlg" | "tolongin" => &["tolong"],
        "mhn" => &["mohon"],
        "sm" => &["sama"],
        "jg" => &["juga"],
        "tp" | "tpi" => &["tapi"],
        "bs" => &["bisa"],
        "org" => &["orang"],
        "byk" | "bnyk" | "bnyak" => &["banyak"],
        "skrg" | "skg" | "skrng" => &["sekarang"],
        "lg" => &["lagi"],
        "aja" => &["saja"],
        "cm" | "cuma" | "cuman" => &["hanya"],
        "dr" => &["dari"],
        "pd" => &["pada"],
        "kl" | "kalo" | "klo" => &["kalau"],
        "rb" | "rbu" => &["ribu"],
        "jt" => &["juta"],
        "sdn" => &["sd", "negeri"],
        "smpn" => &["smp", "negeri"],
        "sman" => &["sma", "negeri"],
        "smkn" => &["smk", "negeri"],
        "disdukcapil" | "dispendukcapil" | "dukcapil" => &["dukcapil"],
        "got" | "selokan" | "drainase" | "saluran" => &["saluran"],
        "ujan" => &["hujan"],
        "dikit" => &["sedikit"],
        "nutup" | "ketutup" => &["tutup"],
        "ngelupas" | "kelupas" => &["kelupas"],
        "antri" | "antrian" => &["antre"],
        "honor" | "honorer" | "honornya" => &["honor"],
        "butek" | "keruh" => &["keruh"],
        "kecoklatan" | "coklat" | "cokelat" => &["coklat"],
        "tps" => &["tps"],
        "nerima" => &["terima"],
        "keterima" => &["terima"],
        "cepet" => &["cepat"],
        "bikin" => &["buat"],
        "ngurus" => &["urus"],
        "ngajuin" | "ngajukan" | "ajukan" => &["aju"],
        "kedata" => &["data"],
        "dibenerin" | "benerin" => &["baiki"],
        "perbaiki" | "diperbaiki" | "perbaikan" => &["baiki"],
        _ => return vec![word],
    };
    to.to_vec()
}

/// Words that say nothing about which complaint this is: function words, courtesies, pronouns,
/// fillers, and the generic names of administrative units (the unit's own name stays).
pub fn is_stop(word: &str) -> bool {
    STOP.binary_search(&word).is_ok()
}

/// Sorted (a test checks), for the binary search.
#[rustfmt::skip]
const STOP: &[&str] = &[
    "ada", "admin", "agar", "akan", "anda", "apa", "assalamualaikum", "atau", "bagaimana", "banget", "bapak",
    "beberapa", "bila", "bisa", "bu", "dan", "dari", "deh", "dengan", "di", "dia", "dong", "e", "el", "hal", "harus",
    "hingga", "hormat", "ibu", "ini", "itu", "jika", "juga", "kalau", "kami", "kamu", "kapan", "karena", "kasih",
    "ke", "kecamatan", "kelurahan", "kepada", "kita", "kok", "kota", "lagi", "lah", "lapor", "laporan", "laporkan",
    "makasih", "mana", "masih", "melaporkan", "mereka", "min", "mohon", "namun", "nih", "no", "nomor", "nya", "oleh",
    "pada", "padahal", "pak", "para", "pun", "saja", "sama", "sana", "sangat", "saya", "segera", "sekali", "sekarang",
    "selamat", "seperti", "sih", "sini", "situ", "sudah", "supaya", "tapi", "telah", "terima", "terimakasih",
    "tetapi", "tolong", "tuh", "umum", "untuk", "wb", "wr", "ya", "yang",
];

/// The root of an informal or `me-`-stripped nasal verb, when that root is a common word: `nunggu` →
/// `tunggu`, `narik` → `tarik`, `mungut` → `pungut`, `nyengat` → `sengat`, `ngirim` → `kirim`.
fn unnasal(word: &str) -> Option<&'static str> {
    if vocabulary::is_common(word) {
        return None;
    }
    let vowel = |s: &str| s.starts_with(['a', 'e', 'i', 'o', 'u']);
    let candidates: Vec<String> = if let Some(r) = word.strip_prefix("ny").filter(|r| vowel(r)) {
        vec![format!("s{r}")]
    } else if let Some(r) = word.strip_prefix("ng").filter(|r| vowel(r)) {
        vec![r.to_owned(), format!("k{r}")]
    } else if let Some(r) = word.strip_prefix('n').filter(|r| vowel(r)) {
        vec![format!("t{r}")]
    } else if let Some(r) = word.strip_prefix('m').filter(|r| vowel(r)) {
        vec![format!("p{r}")]
    } else {
        Vec::new()
    };
    candidates.iter().find_map(|c| vocabulary::common(c))
}

/// Words whose ending only looks like a particle or whose beginning only looks like a prefix.
const KEEP: &[&str] = &[
    "berani", "beranda", "berapa", "beras", "berat", "berita", "berkas", "bersih", "beruang", "jumlah", "kalah",
    "langkah", "masalah", "menara", "mentah", "meteran", "merah", "mereka", "meski", "meja", "nikah", "salah",
    "sekolah", "telah", "terang", "teras", "terima", "terus",
];

/// Light stemming: particles always, prefixes when `prefixes`; a stem keeps at least three letters.
fn stem(word: &str, prefixes: bool) -> String {
    if KEEP.contains(&word) {
        return word.to_owned();
    }
    let mut w = word;
    for (suffix, min) in [("nya", 3), ("lah", 4), ("kah", 4), ("pun", 4)] {
        if let Some(rest) = w.strip_suffix(suffix) {
            if rest.chars().count() >= min {
                w = rest;
                break;
            }
        }
    }
    if !prefixes || KEEP.contains(&w) {
        return w.to_owned();
    }
    let long = |rest: &str, min: usize| rest.chars().count() >= min;
    if let Some(rest) = w.strip_prefix("di").filter(|r| long(r, 4)) {
        return rest.to_owned();
    }
    if let Some(rest) = w.strip_prefix("ter").filter(|r| long(r, 4)) {
        return rest.to_owned();
    }
    if let Some(rest) = w.strip_prefix("ber").filter(|r| long(r, 3)) {
        return rest.to_owned();
    }
    if let Some(rest) = w.strip_prefix("me").filter(|r| long(r, 4)) {
        // mem-b, mem-p, men-d, men-j, men-c, meng-g, meng-k: the nasal goes; before a vowel it stays, as in
        // the informal form (mengalir → ngalir, menumpuk → numpuk, memotong → motong).
        for (nasal, keep_from) in [("mb", 1), ("mp", 1), ("nd", 1), ("nj", 1), ("nc", 1), ("ngg", 2), ("ngk", 2)] {
            if rest.starts_with(nasal) {
                return rest[keep_from..].to_owned();
            }
        }
        return rest.to_owned(); // merusak → rusak, melapor → lapor
    }
    w.to_owned()
}

#[cfg(test)]
mod tests {
    use super::tokens;

    fn t(s: &str) -> String {
        tokens(s, true).join(" ")
    }

    #[test]
    fn abbreviations_and_informal_spellings_are_expanded() {
        assert_eq!(t("jln majapahit gg 3 kec genuk"), "jalan majapahit gang 3 genuk");
        assert_eq!(t("gak ngalir udh 3 hr"), "tidak alir 3 hari");
        assert_eq!(t("lampu PJU mati"), "lampu jalan mati");
        assert_eq!(t("Lampu penerangan jalan umum padam"), "lampu jalan mati");
    }

    #[test]
    fn stop_words_and_particles_go() {
        assert_eq!(t("Mohon bapak, jalannya sudah rusak sekali. Terima kasih."), "jalan rusak");
        assert_eq!(t("sekolahnya"), "sekolah");
    }

    #[test]
    fn the_stop_list_is_sorted_and_unique() {
        assert!(super::STOP.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn nasal_verbs_meet_their_roots() {
        assert_eq!(t("nunggu"), "tunggu");
        assert_eq!(t("menunggu"), "tunggu");
        assert_eq!(t("narik"), "tarik");
        assert_eq!(t("memungut"), "pungut");
        assert_eq!(t("masak"), "masak");
    }

    #[test]
    fn numbers_keep_their_value() {
        assert_eq!(t("dua motor"), "2 motor");
        assert_eq!(t("RT 03/RW 05"), "rt 3 rw 5");
        assert_eq!(t("rt03 rw05"), "rt 3 rw 5");
        assert_eq!(t("Rp150.000"), "rp 150 ribu");
        assert_eq!(t("150rb"), "150 ribu");
        assert_eq!(t("2 hari"), "2 hari");
        assert_eq!(t("berhari2 jalan-jalan"), "hari jalan");
    }

    #[test]
    fn prefixes_meet_the_informal_forms() {
        assert_eq!(t("menumpuk"), t("numpuk"));
        assert_eq!(t("tidak mengalir"), t("gak ngalir"));
        assert_eq!(t("berlubang"), t("lobang"));
        assert_eq!(t("tersumbat"), t("mampet"));
        assert_eq!(t("dijalan"), "jalan");
        assert_eq!(t("membuang"), "buang");
        assert_eq!(tokens("berlubang", false), ["berlubang"]);
    }
}
