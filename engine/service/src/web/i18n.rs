//! The pages' words, in Bahasa Indonesia first and English (docs/web.md#language). One [`Text`] per
//! language: a word missing from either is a compile error, not a blank on a page.

use aduan_core::event::EventType;
use axum::http::HeaderMap;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Bahasa Indonesia (the default).
    Id,
    /// English.
    En,
}

/// The cookie that keeps a visitor's choice of language.
pub const LANG_COOKIE: &str = "aduan_lang";

impl Lang {
    /// The `lang` attribute and the cookie's value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// A language by its code; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The visitor's language: the `aduan_lang` cookie, else Indonesian.
    pub fn of(headers: &HeaderMap) -> Lang {
        super::cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)).unwrap_or(Lang::Id)
    }

    /// The other language (the switch in the header offers it).
    pub fn other(self) -> Lang {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }

    /// The words of this language.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }
}

/// Every word a page shows, as one struct per language.
#[derive(Debug)]
pub struct Text {
    pub language_name: &'static str,
    pub site: &'static str,
    pub tagline: &'static str,
    pub nav_file: &'static str,
    pub nav_track: &'static str,
    pub nav_dashboard: &'static str,
    pub skip: &'static str,
    pub file_heading: &'static str,
    pub file_intro: &'static str,
    pub kind: &'static str,
    pub kinds: [(&'static str, &'static str); 3],
    pub title: &'static str,
    pub body: &'static str,
    pub body_hint: &'static str,
    pub category: &'static str,
    pub category_unknown: &'static str,
    pub region: &'static str,
    pub region_unknown: &'static str,
    pub privacy: &'static str,
    pub privacy_public: &'static str,
    pub privacy_public_hint: &'static str,
    pub privacy_anonymous: &'static str,
    pub privacy_anonymous_hint: &'static str,
    pub privacy_confidential: &'static str,
    pub privacy_confidential_hint: &'static str,
    pub reporter_name: &'static str,
    pub reporter_contact: &'static str,
    pub optional: &'static str,
    pub send: &'static str,
    pub filed_heading: &'static str,
    pub filed_intro: &'static str,
    pub tracking_id: &'static str,
    pub reporter_token: &'static str,
    pub token_keep: &'static str,
    pub follow: &'static str,
    pub track_heading: &'static str,
    pub track_intro: &'static str,
    pub track_button: &'static str,
    pub status: &'static str,
    pub held_by: &'static str,
    pub not_dispatched: &'static str,
    pub deadlines: &'static str,
    pub due: &'static str,
    pub paused: &'static str,
    pub provisional: &'static str,
    pub history: &'static str,
    pub withheld: &'static str,
    pub reporter_actions: &'static str,
    pub reporter_actions_intro: &'static str,
    pub action: &'static str,
    pub message: &'static str,
    pub score: &'static str,
    pub done: &'static str,
    pub error_heading: &'static str,
    pub login_heading: &'static str,
    pub login_intro: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub queue_heading: &'static str,
    pub queue_all: &'static str,
    pub queue_verify: &'static str,
    pub queue_overdue: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub open_case: &'static str,
    pub overdue: &'static str,
    pub received: &'static str,
    pub empty_queue: &'static str,
    pub live: &'static str,
    pub case_heading: &'static str,
    pub explain: &'static str,
    pub reporter: &'static str,
    pub actions: &'static str,
    pub no_actions: &'static str,
    pub agency: &'static str,
    pub reason: &'static str,
    pub investigation: &'static str,
    pub stats_heading: &'static str,
    pub stats_intro: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub show: &'static str,
    pub csv: &'static str,
    pub total: &'static str,
    pub by_status: &'static str,
    pub within_deadline: &'static str,
    pub escalated: &'static str,
    pub nav_stats: &'static str,
    pub nav_queue: &'static str,
    pub months: [&'static str; 12],
}

static ID: Text = Text {
    language_name: "Bahasa Indonesia",
    site: "Aduan",
    tagline: "Layanan pengaduan pelayanan publik",
    nav_file: "Buat laporan",
    nav_track: "Lacak laporan",
    nav_dashboard: "Dasbor petugas",
    skip: "Langsung ke isi",
    file_heading: "Sampaikan laporan Anda",
    file_intro: "Laporan Anda diteruskan ke instansi yang berwenang dan setiap tahap punya tenggat dalam hari kerja.",
    kind: "Jenis laporan",
    kinds: [
        ("pengaduan", "Pengaduan"),
        ("aspirasi", "Aspirasi"),
        ("permintaan_informasi", "Permintaan informasi"),
    ],
    title: "Judul",
    body: "Isi laporan",
    body_hint: "Ceritakan apa yang terjadi, di mana dan kapan.",
    category: "Kategori",
    category_unknown: "Belum tahu (petugas yang menentukan)",
    region: "Lokasi (kabupaten/kota)",
    region_unknown: "Belum tahu",
    privacy: "Kerahasiaan",
    privacy_public: "Biasa",
    privacy_public_hint: "Isi laporan dapat dilihat publik; identitas Anda tidak pernah ditampilkan kepada publik.",
    privacy_anonymous: "Anonim",
    privacy_anonymous_hint: "Instansi tidak melihat nama dan kontak Anda; hanya admin nasional dan Anda (dengan token) yang dapat melihatnya.",
    privacy_confidential: "Rahasia",
    privacy_confidential_hint: "Isi laporan tidak dapat dilihat publik; hanya petugas yang menangani yang membacanya.",
    reporter_name: "Nama",
    reporter_contact: "Telepon atau e-mail",
    optional: "tidak wajib",
    send: "Kirim laporan",
    filed_heading: "Laporan Anda diterima",
    filed_intro: "Simpan dua hal berikut. Nomor pelacakan untuk melihat perkembangan; token pelapor untuk menanggapi.",
    tracking_id: "Nomor pelacakan",
    reporter_token: "Token pelapor",
    token_keep: "Token hanya ditampilkan sekali ini. Jangan bagikan kepada orang lain.",
    follow: "Lihat perkembangan laporan",
    track_heading: "Lacak laporan",
    track_intro: "Masukkan nomor pelacakan yang Anda terima.",
    track_button: "Lacak",
    status: "Status",
    held_by: "Ditangani oleh",
    not_dispatched: "Menunggu verifikasi",
    deadlines: "Tenggat",
    due: "paling lambat",
    paused: "dihentikan sementara (menunggu pelapor)",
    provisional: "sementara: kalender tahun itu belum lengkap",
    history: "Riwayat",
    withheld: "Isi laporan rahasia.",
    reporter_actions: "Tanggapan pelapor",
    reporter_actions_intro: "Dengan token pelapor Anda dapat melengkapi informasi, membuka kembali laporan atau memberi penilaian.",
    action: "Tindakan",
    message: "Pesan",
    score: "Nilai (1–5)",
    done: "Tersimpan.",
    error_heading: "Tidak dapat diproses",
    login_heading: "Masuk dasbor",
    login_intro: "Masukkan token API yang diberikan admin instansi Anda.",
    sign_in: "Masuk",
    sign_out: "Keluar",
    signed_in_as: "Masuk sebagai",
    queue_heading: "Antrean",
    queue_all: "Semua",
    queue_verify: "Perlu verifikasi",
    queue_overdue: "Melewati tenggat",
    search: "Cari nomor pelacakan",
    search_hint: "Contoh: ABCDE-12345",
    open_case: "Buka",
    overdue: "terlambat",
    received: "Diterima",
    empty_queue: "Tidak ada laporan di antrean ini.",
    live: "Antrean diperbarui",
    case_heading: "Laporan",
    explain: "Mengapa tanggal ini",
    reporter: "Pelapor",
    actions: "Tindakan",
    no_actions: "Peran Anda tidak dapat mengambil tindakan pada laporan ini sekarang.",
    agency: "Instansi",
    reason: "Alasan",
    investigation: "Perlu investigasi",
    stats_heading: "Statistik",
    stats_intro: "Laporan yang diterima dalam periode, di instansi Anda dan di bawahnya.",
    from: "Dari",
    to: "Sampai",
    show: "Tampilkan",
    csv: "Unduh CSV",
    total: "Jumlah",
    by_status: "Menurut status",
    within_deadline: "Tanpa keterlambatan (tidak melewati tenggat, tidak dieskalasi)",
    escalated: "Dieskalasi",
    nav_stats: "Statistik",
    nav_queue: "Antrean",
    months: [
        "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November",
        "Desember",
    ],
};

static EN: Text = Text {
    language_name: "English",
    site: "Aduan",
    tagline: "Public service complaints",
    nav_file: "File a report",
    nav_track: "Track a report",
    nav_dashboard: "Officers' dashboard",
    skip: "Skip to content",
    file_heading: "Tell us what happened",
    file_intro: "Your report goes to the agency with the authority, and every step has a deadline in working days.",
    kind: "Kind of report",
    kinds: [
        ("pengaduan", "Complaint"),
        ("aspirasi", "Suggestion"),
        ("permintaan_informasi", "Request for information"),
    ],
    title: "Title",
    body: "Your report",
    body_hint: "Say what happened, where and when.",
    category: "Category",
    category_unknown: "Not sure (an officer decides)",
    region: "Location (regency/city)",
    region_unknown: "Not sure",
    privacy: "Privacy",
    privacy_public: "Public",
    privacy_public_hint: "The report's text is public; your identity is never shown to the public.",
    privacy_anonymous: "Anonymous",
    privacy_anonymous_hint:
        "The agency does not see your name and contact; only the national admin and you (with the token) can.",
    privacy_confidential: "Confidential",
    privacy_confidential_hint: "The report's text is not public; only the officers handling it read it.",
    reporter_name: "Name",
    reporter_contact: "Phone or e-mail",
    optional: "optional",
    send: "Send report",
    filed_heading: "Your report was received",
    filed_intro: "Keep these two. The tracking number shows its progress; the reporter token lets you answer.",
    tracking_id: "Tracking number",
    reporter_token: "Reporter token",
    token_keep: "The token is shown only this once. Do not share it.",
    follow: "Follow your report",
    track_heading: "Track a report",
    track_intro: "Enter the tracking number you received.",
    track_button: "Track",
    status: "Status",
    held_by: "Handled by",
    not_dispatched: "Awaiting verification",
    deadlines: "Deadlines",
    due: "due by",
    paused: "paused (awaiting the reporter)",
    provisional: "provisional: that year's calendar is not complete",
    history: "History",
    withheld: "The report's text is confidential.",
    reporter_actions: "Reporter's answer",
    reporter_actions_intro: "With your reporter token you can add information, reopen the report or rate its handling.",
    action: "Action",
    message: "Message",
    score: "Score (1–5)",
    done: "Saved.",
    error_heading: "Could not be done",
    login_heading: "Sign in",
    login_intro: "Enter the API token your agency's admin gave you.",
    sign_in: "Sign in",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    queue_heading: "Queue",
    queue_all: "All",
    queue_verify: "To verify",
    queue_overdue: "Overdue",
    search: "Find a tracking number",
    search_hint: "For example ABCDE-12345",
    open_case: "Open",
    overdue: "overdue",
    received: "Received",
    empty_queue: "Nothing in this queue.",
    live: "Queue updated",
    case_heading: "Report",
    explain: "Why this date",
    reporter: "Reporter",
    actions: "Actions",
    no_actions: "Your role can take no action on this report now.",
    agency: "Agency",
    reason: "Reason",
    investigation: "Needs investigation",
    stats_heading: "Statistics",
    stats_intro: "Reports received in the period, in your agency and below it.",
    from: "From",
    to: "To",
    show: "Show",
    csv: "Download CSV",
    total: "Total",
    by_status: "By status",
    within_deadline: "Without delay (not overdue, not escalated)",
    escalated: "Escalated",
    nav_stats: "Statistics",
    nav_queue: "Queue",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// Picks the word of `lang` from an (Indonesian, English) pair.
fn pick(lang: Lang, pair: (&str, &str)) -> String {
    match lang {
        Lang::Id => pair.0.to_owned(),
        Lang::En => pair.1.to_owned(),
    }
}

/// The words for a workflow state of the national pack; a state a pack adds is shown as written.
pub fn state_label(lang: Lang, state: &str) -> String {
    pick(
        lang,
        match state {
            "submitted" => ("Diterima, menunggu verifikasi", "Received, awaiting verification"),
            "assigned" => ("Diteruskan ke instansi", "With the agency"),
            "in_progress" => ("Sedang ditindaklanjuti", "Being handled"),
            "awaiting_reporter" => ("Menunggu informasi pelapor", "Awaiting the reporter"),
            "resolved" => ("Selesai ditangani", "Resolved"),
            "closed" => ("Ditutup", "Closed"),
            "archived" => ("Diarsipkan", "Archived"),
            other => return other.replace('_', " "),
        },
    )
}

/// The words for a workflow action of the national pack; an action a pack adds is shown as written.
pub fn action_label(lang: Lang, action: &str) -> String {
    pick(
        lang,
        match action {
            "verify" => ("Verifikasi dan teruskan", "Verify and dispatch"),
            "archive" => ("Arsipkan", "Archive"),
            "forward" => ("Teruskan ke instansi lain", "Forward to another agency"),
            "respond" => ("Tanggapi", "Respond"),
            "request_info" => ("Minta informasi", "Ask for information"),
            "provide_info" => ("Lengkapi informasi", "Add information"),
            "resolve" => ("Selesaikan", "Resolve"),
            "reopen" => ("Buka kembali", "Reopen"),
            "rate" => ("Beri nilai", "Rate"),
            "escalate" => ("Eskalasi", "Escalate"),
            other => return other.replace('_', " "),
        },
    )
}

/// The words for an event of a case's history.
pub fn event_label(lang: Lang, event: EventType) -> String {
    pick(
        lang,
        match event {
            EventType::Submitted => ("Laporan dikirim", "Report filed"),
            EventType::Assigned => ("Diverifikasi dan diteruskan", "Verified and dispatched"),
            EventType::Archived => ("Diarsipkan", "Archived"),
            EventType::Forwarded => ("Dialihkan ke instansi lain", "Forwarded"),
            EventType::Responded => ("Ditanggapi", "Responded"),
            EventType::InfoRequested => ("Informasi diminta", "Information requested"),
            EventType::InfoProvided => ("Informasi dilengkapi", "Information added"),
            EventType::Resolved => ("Diselesaikan", "Resolved"),
            EventType::Reopened => ("Dibuka kembali", "Reopened"),
            EventType::Rated => ("Dinilai", "Rated"),
            EventType::Closed => ("Ditutup", "Closed"),
            EventType::Escalated => ("Dieskalasi", "Escalated"),
            EventType::DeadlineWarning => ("Peringatan tenggat", "Deadline warning"),
            EventType::DeadlineBreached => ("Tenggat terlewati", "Deadline missed"),
            EventType::VerifyOverdue => ("Verifikasi terlambat", "Verification late"),
            EventType::DeadlineChanged => ("Tenggat berubah", "Deadline changed"),
            EventType::Digest => ("Ringkasan harian", "Daily digest"),
            EventType::PackActivated => ("Kebijakan baru berlaku", "New policy in force"),
            EventType::PackRejected => ("Kebijakan ditolak", "Policy refused"),
        },
    )
}

/// The words for a clock of the national pack; a clock a pack adds is shown as written.
pub fn clock_label(lang: Lang, clock: &str) -> String {
    pick(
        lang,
        match clock {
            "verify" => ("Verifikasi", "Verification"),
            "respond" => ("Tindak lanjut pertama", "First follow-up"),
            "complete" => ("Penyelesaian", "Completion"),
            "close" => ("Penutupan otomatis", "Automatic closing"),
            other => return other.replace('_', " "),
        },
    )
}
