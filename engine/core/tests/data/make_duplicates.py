#!/usr/bin/env python3
"""Builds tests/data/duplicates.jsonl, the labelled set of the duplicate-complaint detector.

What it is: pairs of Indonesian public-service complaints, each labelled `duplicate` (the same complaint
about the same problem at the same place or about the same case, however worded or on whichever channel)
or not, with a `kind` saying what the pair tests. The places are real street, kelurahan and kecamatan
names in Semarang, Surabaya, Makassar, Medan and Jayapura; the complaints, people and numbers are
invented. The labels are what a human verifier at a complaint desk would say.

Each line: {"a": complaint, "b": complaint, "duplicate": bool, "kind": str, "source": "hand"|"generated"},
a complaint being {"title", "body", "channel"} (channel: app, web, sms, whatsapp, social).

How it was made: by hand and by this script (Python 3.11, stdlib only, fixed seed, so running it again
writes the file byte for byte). Two parts:
  1. HAND: fully hand-written pairs (positives and hard negatives) that follow no template;
  2. generated pairs, composed from hand-written seed complaints (per category: formal app/web
     wordings, WhatsApp-style informal ones, a terse SMS 1708 one) and places, with variation rules:
     another wording of the same seed (reworded), the SMS or WhatsApp wording against a formal one
     (other_channel, whatsapp), typo injection (typos), and for the negatives the same place with another
     problem (same_street_other_problem), the same problem at another street or kelurahan
     (same_problem_other_place) and unrelated pairs. A generated negative never reuses its partner's wording:
     the two sides are always different templates, as two different citizens would write.

The set is the project's own, under the repository's license (Apache-2.0).

Run from anywhere: python3 engine/core/tests/data/make_duplicates.py
"""

import json
import random
from pathlib import Path

SEED = 20261204
OUT = Path(__file__).with_name("duplicates.jsonl")


def c(title, body, channel):
    return {"title": title, "body": body, "channel": channel}


# ---------------------------------------------------------------------------------------------------------
# 1. Hand-written pairs: (a, b, duplicate, kind).
# ---------------------------------------------------------------------------------------------------------

HAND = [
    # --- positives -------------------------------------------------------------------------------------
    (c("Jalan berlubang di Jl. Majapahit depan Pasar Gayamsari",
       "Selamat siang. Di Jl. Majapahit tepat di depan Pasar Gayamsari ada lubang besar kurang lebih satu meter, "
       "sudah dua motor jatuh minggu ini. Mohon segera ditambal sebelum musim hujan.", "app"),
     c("", "lapor jl majapahit dpn pasar gayamsari ada lobang gede bgt udh 2 motor jatuh mnggu ini tlg ditambal", "sms"),
     True, "other_channel"),
    (c("Lampu PJU mati sepanjang Jl. Setiabudi Srondol",
       "Sudah seminggu lampu penerangan jalan umum di Jl. Setiabudi dari Srondol Kulon sampai depan kampus mati semua. "
       "Malam hari gelap sekali dan rawan begal.", "web"),
     c("PJU Setiabudi padam", "min lampu pju di setiabudi srondol kulon mati smua udah seminggu, gelap bgt rawan begal "
       "tolong dibenerin", "social"),
     True, "whatsapp"),
    (c("Sampah menumpuk di TPS Kenjeran",
       "TPS di Jl. Kenjeran dekat Kelurahan Tambakrejo tidak diangkut sejak hari Senin. Sampah meluber ke jalan dan "
       "baunya sampai ke rumah warga.", "app"),
     c("TPS Jl Kenjeran Tambakrejo belum diangkut", "Kepada DLH Surabaya, sampah di TPS Kenjeran Tambakrejo sudah "
       "beberapa hari tidak diangkut (sejak Senin), sekarang sampahnya meluber sampai ke badan jalan dan bau sekali.", "web"),
     True, "reworded"),
    (c("Air PDAM tidak mengalir di Perumnas Antang",
       "Sejak tiga hari air PDAM di Perumnas Antang Blok 10 Kecamatan Manggala tidak mengalir sama sekali. "
       "Kami harus beli air jerigen. Tidak ada pemberitahuan dari PDAM Makassar.", "app"),
     c("", "air pdam perumnas antang blok 10 manggala mati udh 3 hari gak ngalir sm sekali, ga ada pemberitahuan. "
       "terpaksa beli air jerigen", "whatsapp"),
     True, "whatsapp"),
    (c("Pungutan liar pengurusan surat pindah di Kelurahan Teladan Barat",
       "Saya mengurus surat pindah di Kantor Kelurahan Teladan Barat, Medan Kota, dan diminta membayar Rp150.000 "
       "oleh petugas loket tanpa kwitansi. Setahu saya layanan ini gratis.", "web"),
     c("Pungli surat pindah kel. Teladan Barat", "petugas loket kelurahan teladan barat medan kota minta uang 150rb "
       "buat surat pindah, ga dikasih kwitansi. bukannya gratis ya?", "app"),
     True, "other_channel"),
    (c("KTP elektronik belum jadi setelah 3 bulan",
       "Saya sudah merekam KTP-el di Disdukcapil Kota Jayapura pada bulan Juli, sampai sekarang (Oktober) belum "
       "dicetak dengan alasan blangko habis. Nomor antrean saya A-117.", "app"),
     c("e-KTP blm jadi", "rekam ktp di dukcapil kota jayapura bln juli, skrg oktober blm dicetak jg alasannya blangko "
       "habis terus. antrean A-117", "sms"),
     True, "other_channel"),
    (c("Banjir setiap hujan di Jl. Kaligawe Raya",
       "Setiap hujan deras Jl. Kaligawe Raya di depan Terminal Terboyo tergenang air setinggi lutut karena saluran "
       "tersumbat sampah. Kendaraan banyak yang mogok.", "web"),
     c("Genangan Kaligawe depan Terboyo", "Hujan sebentar saja Kaligawe Raya depan terminal Terboyo langsung banjir "
       "selutut, salurannya mampet sampah. Banyak motor mogok. Tolong dikeruk.", "app"),
     True, "reworded"),
    (c("Pohon tumbang menutup jalan di Jl. Raya Abepura",
       "Pohon besar tumbang di Jl. Raya Abepura dekat Lingkaran Abepura sejak semalam dan menutup separuh jalan. "
       "Belum ada petugas yang memotong.", "app"),
     c("", "pohon tumbang di jln raya abepura dkt lingkaran dr semalam nutup setengah jalan blm ada petugas",
       "sms"), True, "other_channel"),
    (c("Parkir liar di trotoar Jl. Pandanaran",
       "Trotoar di Jl. Pandanaran depan toko oleh-oleh dipakai parkir mobil sehingga pejalan kaki harus turun ke jalan. "
       "Juru parkirnya juga menarik tarif Rp10.000.", "web"),
     c("Trotoar Pandanaran jadi tempat parkir", "Tiap sore trotoar Pandanaran dpn toko oleh2 penuh mobil parkir, "
       "pejalan kaki terpaksa jalan di aspal. Jukirnya narik 10rb.", "whatsapp"),
     True, "whatsapp"),
    (c("Bansos tidak tepat sasaran di RT 04 RW 02 Kelurahan Gading",
       "Penerima BLT di RT 04 RW 02 Kelurahan Gading, Tambaksari, banyak yang mampu, punya mobil, sedangkan "
       "janda lansia di gang kami tidak pernah dapat. Mohon data penerima diverifikasi ulang.", "app"),
     c("BLT salah sasaran Gading", "Di RT 4 RW 2 Kel Gading Tambaksari yang dapat BLT malah orang mampu yg punya mobil, "
       "mbah janda di gang kami gak pernah dapet. Tolong datanya dicek ulang.", "social"),
     True, "whatsapp"),
    (c("Guru honorer belum menerima honor 4 bulan",
       "Kami guru honorer di SD Negeri 060830 Medan Sunggal belum menerima honor selama empat bulan (Juni–September). "
       "Sekolah mengatakan dana BOS belum cair.", "web"),
     c("Honor guru SDN 060830 belum dibayar", "saya guru honor di sdn 060830 medan sunggal, honor kami blm dibayar "
       "4 bln dr juni smp september. kata sekolah dana bos blm cair", "sms"),
     True, "other_channel"),
    (c("PPDB zonasi: rumah 300 m dari sekolah tidak diterima",
       "Anak saya tidak diterima di SMP Negeri 12 Semarang lewat jalur zonasi padahal rumah kami hanya 300 meter "
       "dari sekolah, sementara yang rumahnya lebih jauh diterima. Mohon penjelasan.", "web"),
     c("Zonasi SMPN 12 Semarang janggal", "Rumah cuma 300m dr SMPN 12 Semarang tp anak sy ga keterima zonasi, yg "
       "rumahnya lebih jauh malah diterima. Minta penjelasan.", "whatsapp"),
     True, "whatsapp"),
    (c("Antrean BPJS di RSUD Dok II terlalu lama",
       "Pasien BPJS di RSUD Dok II Jayapura harus antre dari jam 5 pagi dan baru dilayani dokter jam 2 siang. "
       "Loket pendaftaran hanya buka dua.", "app"),
     c("", "rsud dok 2 jayapura pasien bpjs antri dr jam 5 pagi br ketemu dokter jam 2 siang, loket cm buka 2",
       "sms"), True, "other_channel"),
    (c("Izin usaha (NIB) tidak terbit",
       "Saya mengajukan NIB melalui OSS untuk usaha katering di Kecamatan Rappocini sejak 2 bulan lalu, status "
       "masih verifikasi di DPMPTSP Makassar tanpa kejelasan.", "web"),
     c("NIB katering belum terbit", "Pengajuan NIB lewat OSS utk katering saya di Rappocini sudah 2 bulan statusnya "
       "verifikasi terus di DPMPTSP Makassar, tidak ada kejelasan.", "app"),
     True, "reworded"),
    (c("PKL berjualan di badan jalan Jl. Pancing",
       "Pedagang kaki lima di Jl. Pancing depan Pasar Pancing berjualan sampai ke badan jalan sehingga macet parah "
       "setiap pagi.", "app"),
     c("Macet Jl Pancing karena PKL", "Tiap pagi macet total di jalan Pancing dpn pasar, PKL jualan sampe ke tengah "
       "jalan.", "social"), True, "whatsapp"),
    (c("Akta kelahiran anak salah nama",
       "Akta kelahiran anak saya yang terbit dari Dispendukcapil Surabaya salah ketik nama (tertulis Aulia Rahmah, "
       "seharusnya Aulia Rahma). Sudah dua kali mengajukan perbaikan tapi tidak diproses.", "web"),
     c("Perbaikan akta tidak diproses", "akta lahir anak sy dr dispendukcapil sby namanya salah ketik, harusnya "
       "Aulia Rahma ditulis Aulia Rahmah. udh 2x ajukan perbaikan gak diproses2", "whatsapp"),
     True, "whatsapp"),
    (c("Jembatan kayu lapuk di Kampung Kayu Batu",
       "Jembatan kayu penghubung di Kampung Kayu Batu, Jayapura Utara, papannya sudah lapuk dan berlubang. "
       "Anak sekolah setiap hari lewat sini.", "app"),
     c("Jembatan Kayu Batu membahayakan", "Papan jembatan kayu di kampung Kayu Batu Jayapura Utara sudah lapuk, ada "
       "yang bolong. Anak2 sekolah lewat tiap hari, bahaya.", "app"),
     True, "reworded"),
    (c("Saluran air tersumbat di Gg. Lebak Jaya",
       "Got di Gg. Lebak Jaya 3 Kelurahan Gading tersumbat sampah dan lumpur, airnya meluap ke rumah warga setiap hujan.",
       "web"),
     c("", "got gg lebak jaya 3 gading mampet sampah lumpur tiap hujan meluap ke rmh warga", "sms"),
     True, "other_channel"),
    (c("Lampu lalu lintas mati di perempatan Jl. AP Pettarani",
       "Traffic light di perempatan Jl. AP Pettarani – Jl. Boulevard mati sejak pagi, lalu lintas semrawut dan hampir "
       "terjadi tabrakan.", "social"),
     c("Lampu merah Pettarani Boulevard mati", "Lampu merah perempatan Pettarani-Boulevard mati dari pagi, semrawut, "
       "td hampir tabrakan", "whatsapp"),
     True, "whatsapp"),
    (c("Sertifikat tanah dari PTSL belum dibagikan",
       "Warga Kelurahan Waena, Distrik Heram, ikut program PTSL tahun lalu tetapi sertifikat belum dibagikan, padahal "
       "kata BPN sudah jadi.", "web"),
     c("PTSL Waena", "Kami warga Waena Heram ikut PTSL thn lalu, katanya sertifikat sdh jadi tapi sampai sekarang blm "
       "dibagi ke warga.", "app"),
     True, "reworded"),
    (c("Jalan rusak parah Jl. Perintis Kemerdekaan km 10",
       "Aspal di Jl. Perintis Kemerdekaan km 10 depan kampus Unhas Tamalanrea terkelupas dan berlubang di banyak titik, "
       "sering terjadi kecelakaan motor.", "app"),
     c("Perintis km 10 rusak", "jalan perintis kemerdekaan km10 depan unhas tamalanrea aspalnya ngelupas, "
       "lubangnya banyak bgt, sering ada motor jatuh", "whatsapp"),
     True, "whatsapp"),
    (c("Pelayanan KK di Disdukcapil Medan lambat",
       "Pengurusan Kartu Keluarga baru di Disdukcapil Kota Medan sudah tiga minggu belum selesai, padahal janji "
       "petugas 7 hari kerja. Nomor pengajuan 1271-KK-0931.", "web"),
     c("KK baru 3 minggu belum jadi", "KK baru sy di disdukcapil medan udh 3 minggu gak selesai2, janjinya 7 hr kerja. "
       "no pengajuan 1271-KK-0931", "sms"),
     True, "other_channel"),
    (c("Pembuangan limbah pabrik tahu ke sungai",
       "Pabrik tahu di Kelurahan Sumurboto, Banyumanik, membuang limbah cair langsung ke sungai sehingga air sungai "
       "hitam dan berbau busuk.", "app"),
     c("Limbah tahu cemari sungai Sumurboto", "Sungai di Sumurboto Banyumanik jd hitam dan bau busuk krn limbah cair "
       "pabrik tahu dibuang langsung kesana.", "web"),
     True, "reworded"),
    (c("Ambulans puskesmas tidak bisa dihubungi",
       "Tadi malam ayah saya sesak napas, nomor ambulans Puskesmas Kotaraja tidak bisa dihubungi berkali-kali "
       "sehingga kami bawa sendiri naik motor ke rumah sakit.", "app"),
     c("", "semalam bapak sy sesak napas, telp ambulans puskesmas kotaraja gak bs dihubungi berkali2, "
       "akhirnya bawa sendiri pake motor ke rs", "sms"),
     True, "other_channel"),
    (c("Pengaspalan Jl. Rungkut Madya tidak rata",
       "Pengaspalan ulang Jl. Rungkut Madya yang baru selesai bulan lalu sudah bergelombang dan ada yang mengelupas. "
       "Mohon kontraktornya diperiksa.", "web"),
     c("Aspal baru Rungkut Madya sudah rusak", "Aspal Rungkut Madya baru sebulan diaspal ulang udah bergelombang & "
       "ngelupas. Kontraktornya tolong dicek.", "social"),
     True, "whatsapp"),
    (c("Pungli di SMA Negeri 5 Makassar",
       "Sekolah SMA Negeri 5 Makassar meminta uang pembangunan Rp2.500.000 kepada siswa baru, katanya wajib.", "web"),
     c("SMAN 5 Makassar minta uang pembangunan", "anak sy siswa baru sman 5 makassar diminta uang pembangunan 2,5jt "
       "katanya wajib", "sms"),
     True, "other_channel"),
    (c("Tiang listrik miring hampir roboh di Jl. Demak",
       "Tiang listrik di Jl. Demak dekat Kelurahan Tembok Dukuh miring dan kabelnya menjuntai rendah, "
       "membahayakan pengendara.", "app"),
     c("Tiang listrik Demak miring", "Tiang listrik di jalan Demak Tembok Dukuh udah miring, kabelnya nggantung "
       "rendah banget, bahaya buat yg lewat", "whatsapp"),
     True, "whatsapp"),
    (c("Jalan berlubang Jl. Majapahit Gayamsari", "Ada lubang besar di Jl. Majapahit depan pasar Gayamsari. "
       "Dua pengendara motor jatuh minggu ini.", "web"),
     c("Jalan berlubang Jl. Majapahit Gayamsari", "Ada lubang besar di Jl. Majapahit depan pasar Gayamsari. "
       "Dua pengendara motor jatuh minggu ini. Saya sudah melapor minggu lalu tetapi belum ada tindak lanjut.", "web"),
     True, "resubmitted"),
    (c("Sampah tidak diangkut Perumahan Bumi Tamalanrea Permai",
       "Petugas kebersihan tidak mengangkut sampah di Perumahan Bumi Tamalanrea Permai blok AB sudah 10 hari.", "app"),
     c("Sampah tidak diangkut Perumahan Bumi Tamalanrea Permai",
       "Laporan ulang: petugas kebersihan tidak mengangkut sampah di Perumahan Bumi Tamalanrea Permai blok AB, "
       "sudah 10 hari. Mohon ditindaklanjuti.", "app"),
     True, "resubmitted"),
    (c("Lampu jalan mati di Jl. Baru Kotaraja", "Lampu jalan di Jl. Baru Kotaraja depan Gereja Pniel mati "
       "sudah dua minggu.", "app"),
     c("", "lmp jln baru kotaraja dpn gereja pniel mati udh 2 mgg", "sms"),
     True, "other_channel"),
    (c("Petugas kelurahan tidak ada di tempat",
       "Saya datang ke Kantor Kelurahan Mamajang Dalam jam 10 pagi untuk legalisir, tidak ada satu pun petugas "
       "di loket sampai jam 12.", "web"),
     c("Kantor Kelurahan Mamajang Dalam kosong", "Jam 10 pagi sy ke kelurahan Mamajang Dalam mau legalisir, ga ada "
       "petugas di loket sama sekali sampe jam 12 siang.", "whatsapp"),
     True, "whatsapp"),
    (c("Kabel fiber optik menjuntai di Jl. Setia Budi Medan",
       "Kabel-kabel fiber optik di Jl. Setia Budi Tanjung Sari menjuntai sampai setinggi kepala pengendara motor.",
       "app"),
     c("Kabel menjuntai Setia Budi Tanjung Sari", "kabel fiber optik di jalan setia budi tanjung sari gantung2 "
       "sampe sekepala pengendara motor", "social"),
     True, "whatsapp"),
    (c("Rumah sakit menolak pasien BPJS",
       "RS Bhayangkara Makassar menolak ibu saya yang pasien BPJS kelas 3 dengan alasan kamar penuh, padahal "
       "keluarga pasien lain bilang masih ada kamar kosong.", "web"),
     c("Ditolak RS Bhayangkara", "ibu sy pasien bpjs kls 3 ditolak rs bhayangkara makassar alasan kamar penuh, "
       "pdhl kt keluarga pasien lain msh ada kamar kosong", "sms"),
     True, "other_channel"),
    (c("Drainase Jl. Wolter Monginsidi belum selesai",
       "Proyek drainase di Jl. Wolter Monginsidi Pedurungan dibiarkan terbuka berbulan-bulan tanpa pengaman, "
       "galiannya dalam dan sudah ada anak yang terperosok.", "app"),
     c("Galian drainase Pedurungan terbuka", "Galian proyek drainase Wolter Monginsidi Pedurungan dibiarin terbuka "
       "berbulan2 ga ada pengaman, dalem, kemarin ada anak kecil kecebur.", "whatsapp"),
     True, "whatsapp"),
    (c("Sekolah menahan ijazah karena tunggakan",
       "SMK Swasta di Medan Maimun menahan ijazah anak saya yang lulus tahun ini karena masih ada tunggakan SPP "
       "tiga bulan.", "web"),
     c("Ijazah ditahan sekolah", "Ijazah anak saya ditahan SMK swasta di Medan Maimun krn nunggak SPP 3 bulan, "
       "padahal udah lulus tahun ini.", "app"),
     True, "reworded"),
    (c("Anjing liar berkeliaran di Perumahan Pasifik Permai",
       "Banyak anjing liar di Perumahan Pasifik Permai Bhayangkara yang menggigit warga, sudah dua anak digigit bulan "
       "ini.", "app"),
     c("Anjing liar gigit anak2", "di perumahan pasifik permai bhayangkara byk anjing liar, udh 2 anak digigit bln ini",
       "sms"), True, "other_channel"),
    (c("Jam pelayanan Samsat tidak sesuai",
       "Samsat Medan Selatan yang seharusnya buka jam 08.00 baru membuka loket jam 09.30, antrean sudah panjang.", "web"),
     c("Samsat Medan Selatan buka telat", "Loket samsat medan selatan baru buka jam setengah 10, harusnya jam 8. "
       "Antrian udah panjang bgt.", "whatsapp"),
     True, "whatsapp"),
    (c("Pencemaran asap pembakaran sampah",
       "Setiap malam ada pembakaran sampah di lahan kosong belakang Jl. Sultan Alauddin Gunung Sari, asapnya masuk "
       "rumah warga dan anak-anak batuk.", "app"),
     c("Bakar sampah tiap malam Gunung Sari", "Tiap malem ada yg bakar sampah di lahan kosong belakang jl sultan "
       "alauddin gunung sari, asapnya masuk rumah, anak2 pada batuk", "social"),
     True, "whatsapp"),
    (c("Keterlambatan pencairan PIP",
       "Dana Program Indonesia Pintar untuk anak saya di SD Inpres Kotaraja belum cair padahal teman sekelasnya "
       "sudah menerima sejak bulan lalu.", "web"),
     c("PIP belum cair SD Inpres Kotaraja", "PIP anak sy di SD Inpres Kotaraja blm cair, tmn sekelasnya udh terima dr "
       "bulan lalu", "sms"),
     True, "other_channel"),
    (c("Air PDAM keruh dan berbau di Jl. Ahmad Yani Gayungan",
       "Air PDAM Surya Sembada di rumah kami Jl. Ahmad Yani Gayungan keruh kecoklatan dan berbau kaporit menyengat "
       "sejak kemarin.", "app"),
     c("PDAM keruh Gayungan", "air pdam di a yani gayungan keruh coklat, bau kaporit nyengat dr kemarin", "sms"),
     True, "other_channel"),
    # --- typos, hand-written ---
    (c("Lampu jalan mati di Jl. Gatot Subroto Sei Sikambing",
       "Lampu jalan di Jl. Gatot Subroto depan SPBU Sei Sikambing B mati sejak lima hari.", "app"),
     c("Lampu jaln mati Gatot Subroto", "Lampu jalam di jl gatot subroro depan spbu sei sikambimg b mati sejak "
       "lima hri.", "app"),
     True, "typos"),
    (c("Sampah menumpuk di Pasar Teladan", "Sampah di belakang Pasar Teladan Medan menumpuk tinggi dan tidak "
       "diangkut berhari-hari, lalat banyak.", "web"),
     c("Smpah numpuk psar teladan", "sampah di belakang pasar teladn medan menumpuk tingi gak diangkut berhari2, "
       "lalat bnyak", "whatsapp"),
     True, "typos"),
    (c("Banjir di Perumahan Kota Baru Abepura", "Setiap hujan lebat Perumahan Kota Baru Abepura terendam banjir "
       "karena kali kecil di belakang perumahan dangkal.", "app"),
     c("Banjr Kota Baru Abepura", "setiap hujan lebat perumhan kota baru abeputa terendam banjir krn kali kecil di "
       "belakang perumahan dangkal", "sms"),
     True, "typos"),
    (c("Pungli pembuatan KTP di Kecamatan Panakkukang", "Oknum di kantor Kecamatan Panakkukang meminta Rp100.000 "
       "agar KTP cepat jadi.", "web"),
     c("pungli ktp panakukang", "oknum di kantor kecamtan panakukang minta 100rb biar ktp cepet jadi", "sms"),
     True, "typos"),

    # --- hard negatives: same street or place, another problem ------------------------------------------
    (c("Jalan berlubang di Jl. Majapahit depan Pasar Gayamsari",
       "Di Jl. Majapahit depan Pasar Gayamsari ada lubang besar, sudah dua motor jatuh minggu ini.", "app"),
     c("Lampu jalan mati di Jl. Majapahit depan Pasar Gayamsari",
       "Lampu jalan di Jl. Majapahit depan Pasar Gayamsari mati semua sejak seminggu, malam gelap sekali.", "app"),
     False, "same_street_other_problem"),
    (c("Sampah menumpuk di TPS Kenjeran", "TPS di Jl. Kenjeran dekat Kelurahan Tambakrejo tidak diangkut sejak "
       "Senin, sampah meluber ke jalan.", "app"),
     c("Parkir liar di Jl. Kenjeran Tambakrejo", "Di Jl. Kenjeran dekat Kelurahan Tambakrejo banyak mobil parkir di "
       "bahu jalan sehingga macet setiap sore.", "web"),
     False, "same_street_other_problem"),
    (c("PDAM mati di Perumnas Antang", "Air PDAM di Perumnas Antang Blok 10 Manggala tidak mengalir tiga hari.", "app"),
     c("Jalan rusak di Perumnas Antang", "Jalan masuk Perumnas Antang Blok 10 Manggala rusak dan becek, banyak "
       "lubang.", "app"),
     False, "same_street_other_problem"),
    (c("Pungli surat pindah di Kelurahan Teladan Barat", "Petugas loket Kelurahan Teladan Barat meminta Rp150.000 "
       "untuk surat pindah tanpa kwitansi.", "web"),
     c("Petugas Kelurahan Teladan Barat tidak ramah", "Petugas loket Kelurahan Teladan Barat membentak warga yang "
       "bertanya soal syarat surat pindah.", "web"),
     False, "same_street_other_problem"),
    (c("Antrean BPJS RSUD Dok II lama", "Pasien BPJS di RSUD Dok II Jayapura antre dari jam 5 pagi sampai jam 2 siang.",
       "app"),
     c("Parkir RSUD Dok II mahal", "Tarif parkir di RSUD Dok II Jayapura Rp10.000 untuk motor, tidak ada karcis "
       "resmi.", "app"),
     False, "same_street_other_problem"),
    (c("Banjir di Jl. Kaligawe Raya", "Jl. Kaligawe Raya depan Terminal Terboyo banjir selutut setiap hujan karena "
       "saluran tersumbat.", "web"),
     c("Jalan Kaligawe Raya berlubang", "Jl. Kaligawe Raya depan Terminal Terboyo banyak lubang dalam, "
       "truk sering terperosok.", "web"),
     False, "same_street_other_problem"),
    (c("Parkir liar di trotoar Jl. Pandanaran", "Trotoar Jl. Pandanaran depan toko oleh-oleh dipakai parkir mobil.",
       "web"),
     c("PKL di trotoar Jl. Pandanaran", "Trotoar Jl. Pandanaran depan toko oleh-oleh dipenuhi lapak pedagang kaki "
       "lima.", "web"),
     False, "same_street_other_problem"),
    (c("Guru honorer SDN 060830 belum digaji", "Honor guru honorer SD Negeri 060830 Medan Sunggal belum dibayar "
       "empat bulan.", "web"),
     c("Atap SDN 060830 bocor", "Atap ruang kelas 4 SD Negeri 060830 Medan Sunggal bocor dan plafonnya hampir "
       "runtuh.", "web"),
     False, "same_street_other_problem"),
    (c("Zonasi SMPN 12 Semarang", "Anak saya tidak diterima di SMP Negeri 12 Semarang lewat zonasi padahal rumah "
       "300 meter dari sekolah.", "web"),
     c("Pungutan seragam SMPN 12 Semarang", "SMP Negeri 12 Semarang mewajibkan siswa baru membeli seragam di "
       "koperasi sekolah seharga Rp1.200.000.", "web"),
     False, "same_street_other_problem"),
    (c("Pohon tumbang di Jl. Raya Abepura", "Pohon besar tumbang di Jl. Raya Abepura dekat Lingkaran Abepura "
       "menutup separuh jalan.", "app"),
     c("Lampu lalu lintas Lingkaran Abepura mati", "Lampu lalu lintas di Lingkaran Abepura, Jl. Raya Abepura, mati "
       "sejak kemarin sore.", "app"),
     False, "same_street_other_problem"),
    (c("KTP belum jadi di Disdukcapil Jayapura", "KTP-el saya belum dicetak sejak Juli di Disdukcapil Kota Jayapura, "
       "alasan blangko habis.", "app"),
     c("Akta kematian belum terbit Disdukcapil Jayapura", "Akta kematian almarhum ayah saya belum terbit di "
       "Disdukcapil Kota Jayapura padahal berkas lengkap sejak Agustus.", "app"),
     False, "same_street_other_problem"),
    (c("Jalan rusak Jl. Perintis Kemerdekaan km 10", "Aspal di Jl. Perintis Kemerdekaan km 10 depan Unhas "
       "terkelupas dan berlubang.", "app"),
     c("Pete-pete ngetem di Jl. Perintis Kemerdekaan km 10", "Angkot pete-pete ngetem sembarangan di Jl. Perintis "
       "Kemerdekaan km 10 depan Unhas sehingga macet.", "app"),
     False, "same_street_other_problem"),
    (c("Saluran tersumbat di Gg. Lebak Jaya", "Got di Gg. Lebak Jaya 3 Kelurahan Gading tersumbat dan meluap.", "web"),
     c("Bansos salah sasaran di Gg. Lebak Jaya", "Penerima BLT di Gg. Lebak Jaya 3 Kelurahan Gading banyak yang "
       "mampu.", "web"),
     False, "same_street_other_problem"),
    (c("", "lampu jln setiabudi srondol mati smua udh seminggu", "sms"),
     c("", "jln setiabudi srondol bnyk lubang udh seminggu gak ditambal", "sms"),
     False, "same_street_other_problem"),
    (c("", "air pdam gayungan keruh bau kaporit dr kemarin", "sms"),
     c("", "air pdam gayungan mati total dr kemarin gak ngalir", "sms"),
     False, "same_street_other_problem"),

    # --- hard negatives: same problem, another place ----------------------------------------------------
    (c("Lampu PJU mati di Jl. Setiabudi Srondol", "Lampu penerangan jalan di Jl. Setiabudi Srondol Kulon mati "
       "seminggu, rawan begal.", "web"),
     c("Lampu PJU mati di Jl. Ngesrep Timur V", "Lampu penerangan jalan di Jl. Ngesrep Timur V Sumurboto mati "
       "seminggu, rawan begal.", "web"),
     False, "same_problem_other_place"),
    (c("Air PDAM mati Perumnas Antang", "Air PDAM di Perumnas Antang Blok 10 tidak mengalir tiga hari.", "app"),
     c("Air PDAM mati BTP Tamalanrea", "Air PDAM di perumahan BTP Blok M Tamalanrea tidak mengalir tiga hari.", "app"),
     False, "same_problem_other_place"),
    (c("Sampah TPS Kenjeran", "TPS Jl. Kenjeran Tambakrejo tidak diangkut sejak Senin.", "app"),
     c("Sampah TPS Rungkut", "TPS di Jl. Rungkut Madya Rungkut Kidul tidak diangkut sejak Senin.", "app"),
     False, "same_problem_other_place"),
    (c("Pungli surat pindah Kel. Teladan Barat", "Petugas Kelurahan Teladan Barat minta Rp150.000 untuk surat pindah.",
       "web"),
     c("Pungli surat pindah Kel. Kenangan Baru", "Petugas Kelurahan Kenangan Baru minta Rp150.000 untuk surat pindah.",
       "web"),
     False, "same_problem_other_place"),
    (c("", "jl majapahit dpn pasar gayamsari lobang gede 2 motor jatuh", "sms"),
     c("", "jl kaligawe raya dpn terboyo lobang gede 2 motor jatuh", "sms"),
     False, "same_problem_other_place"),
    (c("Pohon tumbang Jl. Raya Abepura", "Pohon tumbang menutup Jl. Raya Abepura dekat Lingkaran sejak semalam.", "app"),
     c("Pohon tumbang Jl. Raya Sentani", "Pohon tumbang menutup Jl. Raya Sentani dekat Expo Waena sejak semalam.", "app"),
     False, "same_problem_other_place"),
    (c("Banjir Kaligawe Raya", "Kaligawe Raya depan Terminal Terboyo banjir selutut, saluran tersumbat.", "web"),
     c("Banjir Jl. Kenjeran", "Jl. Kenjeran depan Pantai Ria banjir selutut, saluran tersumbat.", "web"),
     False, "same_problem_other_place"),
    (c("Guru honorer SDN 060830 belum digaji", "Honor guru SD Negeri 060830 Medan Sunggal belum dibayar 4 bulan.",
       "web"),
     c("Guru honorer SDN 064979 belum digaji", "Honor guru SD Negeri 064979 Medan Denai belum dibayar 4 bulan.", "web"),
     False, "same_problem_other_place"),
    (c("Antrean BPJS RSUD Dok II", "Pasien BPJS di RSUD Dok II Jayapura antre dari subuh sampai siang.", "app"),
     c("Antrean BPJS RSUD Abepura", "Pasien BPJS di RSUD Abepura antre dari subuh sampai siang.", "app"),
     False, "same_problem_other_place"),
    (c("PKL di Jl. Pancing", "PKL di Jl. Pancing depan Pasar Pancing berjualan di badan jalan, macet tiap pagi.", "app"),
     c("PKL di Jl. Sisingamangaraja", "PKL di Jl. Sisingamangaraja depan Pasar Simpang Limun berjualan di badan "
       "jalan, macet tiap pagi.", "app"),
     False, "same_problem_other_place"),

    # --- hard negatives: same category and place, other details (another case) -------------------------
    (c("KK belum jadi", "KK baru saya di Disdukcapil Medan sudah 3 minggu belum selesai. No pengajuan 1271-KK-0931, "
       "atas nama Rudi Hartono.", "web"),
     c("KK belum jadi", "KK saya di Disdukcapil Medan belum selesai. No pengajuan 1271-KK-1544, atas nama Siti "
       "Aminah, pindahan dari Binjai.", "web"),
     False, "same_category_other_details"),
    (c("PDAM meter rusak no. 14", "Meteran air PDAM di rumah Jl. Veteran Selatan No. 14 Mamajang rusak, tagihan "
       "bulan ini Rp1.800.000.", "app"),
     c("PDAM meter rusak no. 87", "Meteran air PDAM di rumah Jl. Veteran Selatan No. 87 Mamajang macet, tagihan "
       "tidak pernah berubah sejak Mei.", "app"),
     False, "same_category_other_details"),
    (c("Akta kelahiran salah nama", "Akta kelahiran anak saya salah nama, tertulis Aulia Rahmah seharusnya Aulia "
       "Rahma. Dispendukcapil Surabaya.", "web"),
     c("Akta kelahiran salah tanggal", "Akta kelahiran anak saya salah tanggal lahir, tertulis 12 Maret seharusnya "
       "21 Maret. Dispendukcapil Surabaya.", "web"),
     False, "same_category_other_details"),
    (c("Lampu mati depan Masjid Al Ikhlas", "Lampu jalan di Jl. Brigjend Katamso depan Masjid Al Ikhlas mati.",
       "app"),
     c("Tiang lampu roboh di Jl. Brigjend Katamso", "Tiang lampu jalan di Jl. Brigjend Katamso dekat Istana Maimun "
       "roboh ditabrak truk, kabelnya terbuka.", "app"),
     False, "same_category_other_details"),
    (c("Bansos RT 04 Gading", "Penerima BLT di RT 04 RW 02 Kelurahan Gading banyak yang mampu.", "app"),
     c("Bansos RT 04 Gading tidak cair", "Saya terdaftar penerima PKH di RT 04 RW 02 Kelurahan Gading tapi sudah "
       "dua tahap dananya tidak masuk rekening.", "app"),
     False, "same_category_other_details"),

    # --- second batch, positives -----------------------------------------------------------------------
    (c("Obat di Puskesmas Bandarharjo sering kosong",
       "Sudah tiga kali saya ke Puskesmas Bandarharjo, Semarang Utara, untuk obat hipertensi ibu saya dan selalu "
       "dibilang stok kosong, disuruh beli di apotek luar.", "app"),
     c("", "obat darah tinggi di puskesmas bandarharjo kosong trs udh 3x kesana disuruh beli di apotek luar", "sms"),
     True, "other_channel"),
    (c("Bus Trans Semarang koridor 2 sering tidak datang",
       "Di halte Jl. Setiabudi depan Ada Swalayan, bus Trans Semarang koridor 2 arah Terboyo sering tidak lewat "
       "lebih dari satu jam pada jam berangkat kerja.", "web"),
     c("BRT koridor 2 molor", "nunggu BRT koridor 2 di halte setiabudi depan ADA swalayan arah terboyo bisa sejam "
       "lebih pas jam brgkt kerja, parah", "social"),
     True, "whatsapp"),
    (c("Banjir rob di Kelurahan Tanjung Mas",
       "Setiap sore air rob masuk ke permukiman di Kelurahan Tanjung Mas, Semarang Utara, setinggi betis. Pompa air "
       "di Kali Baru tidak dinyalakan.", "app"),
     c("Rob Tanjung Mas pompa mati", "Warga Tanjung Mas kena rob lagi tiap sore sampai betis, pompa di Kali Baru "
       "gak dinyalain sama petugas.", "whatsapp"),
     True, "whatsapp"),
    (c("Kebisingan tempat karaoke di Jl. Kalijudan",
       "Tempat karaoke di Jl. Kalijudan dekat Masjid Al Falah buka sampai jam 3 pagi dengan suara keras, warga "
       "tidak bisa tidur.", "web"),
     c("", "karaoke di jl kalijudan dkt masjid al falah berisik smp jam 3 pagi warga gk bs tidur", "sms"),
     True, "other_channel"),
    (c("Pasar Terong becek dan kumuh",
       "Lorong Pasar Terong Makassar becek, saluran airnya rusak dan sampah sayur dibiarkan menumpuk di lorong.",
       "app"),
     c("Kondisi Pasar Terong", "Pasar Terong Makassar kumuh skali, lorongnya becek krn saluran rusak, sampah sayur "
       "numpuk dimana2.", "social"),
     True, "whatsapp"),
    (c("Listrik PLN padam berulang di Perumnas Waena",
       "Dalam seminggu ini listrik di Perumnas 3 Waena padam hampir setiap malam 2–3 jam tanpa pemberitahuan PLN.",
       "web"),
     c("Mati lampu terus di Perumnas 3 Waena", "min PLN, listrik di perumnas 3 waena mati hampir tiap malam "
       "2-3 jam seminggu ini, gak ada pemberitahuan", "social"),
     True, "whatsapp"),
    (c("Pemotongan dana BLT oleh ketua RT",
       "Ketua RT 07 RW 03 Kelurahan Rungkut Kidul memotong BLT warga sebesar Rp100.000 per orang dengan alasan "
       "uang kas.", "web"),
     c("BLT dipotong RT", "blt warga rt 7 rw 3 rungkut kidul dipotong 100rb per org sm pak rt katanya buat kas",
       "sms"), True, "other_channel"),
    (c("Jadwal dokter spesialis RSUD Makassar tidak sesuai",
       "Di RSUD Daya Makassar, jadwal poli penyakit dalam tertulis jam 08.00 tetapi dokternya baru datang jam 12.00 "
       "hampir setiap hari.", "app"),
     c("Dokter poli dalam RSUD Daya telat", "Poli penyakit dalam RSUD Daya jadwalnya jam 8, dokter baru dateng jam 12, "
       "hampir tiap hari begitu.", "whatsapp"),
     True, "whatsapp"),
    (c("Penyaluran air tangki tidak merata di Abepura",
       "Bantuan air bersih dengan mobil tangki dari PDAM Jayapura di Kelurahan Kota Baru, Abepura, hanya diberikan ke "
       "beberapa rumah dekat jalan besar.", "web"),
     c("Air tangki PDAM tidak merata Kota Baru", "Mobil tangki PDAM Jayapura di Kota Baru Abepura cuma isi rumah2 yg "
       "dekat jalan besar aja, yg di dalam gak dapat.", "app"),
     True, "reworded"),
    (c("Trotoar rusak di Jl. Raya Darmo",
       "Paving trotoar Jl. Raya Darmo dekat Taman Bungkul banyak yang lepas dan berlubang, sudah ada lansia yang "
       "terjatuh.", "app"),
     c("Paving Darmo lepas", "paving trotoar di raya darmo deket taman bungkul pd copot, bolong2, kemarin ada "
       "nenek2 jatuh", "whatsapp"),
     True, "whatsapp"),
    (c("Sekolah memungut biaya perpisahan",
       "SD Negeri Tamamaung 1 Makassar mewajibkan orang tua membayar Rp350.000 untuk acara perpisahan kelas 6.", "web"),
     c("", "sd negeri tamamaung 1 mksr wajibkan ortu bayar 350rb utk perpisahan kls 6", "sms"),
     True, "other_channel"),
    (c("Izin mendirikan bangunan (PBG) tanpa kepastian",
       "Permohonan PBG rumah tinggal saya di Kelurahan Tanjung Sari, Medan Selayang, sudah 4 bulan tanpa kepastian di "
       "Dinas Perkim Kota Medan.", "web"),
     c("PBG 4 bulan belum terbit", "Sdh 4 bln ngurus PBG rumah di Tanjung Sari Medan Selayang, di Perkim Medan gak ada "
       "kepastian.", "app"),
     True, "reworded"),
    (c("Pengemudi ojek online mangkal di depan Stasiun Tawang",
       "Ojek online mangkal di badan jalan depan Stasiun Tawang sehingga jalan menyempit dan macet.", "app"),
     c("Ojol mangkal Stasiun Tawang", "depan stasiun tawang macet gara2 ojol pada mangkal di badan jalan", "social"),
     True, "whatsapp"),
    (c("Penerangan di Jembatan Merah Surabaya mati",
       "Lampu di sepanjang Jembatan Merah Surabaya mati sejak hampir dua minggu, rawan kejahatan.", "web"),
     c("", "lampu jembatan merah sby mati hmpir 2 mgg rawan", "sms"),
     True, "other_channel"),
    (c("Tagihan PBB naik tidak wajar",
       "PBB rumah saya di Kelurahan Karuwisi, Panakkukang, naik dari Rp400.000 menjadi Rp1.900.000 tahun ini tanpa "
       "penjelasan dari Bapenda Makassar.", "app"),
     c("PBB Karuwisi naik 4x lipat", "pbb rmh di karuwisi panakkukang naik dr 400rb jd 1,9jt thn ini, bapenda "
       "mksr gak jelasin apa2", "whatsapp"),
     True, "whatsapp"),
    (c("Penanganan sampah Sungai Deli",
       "Sampah plastik menumpuk di Sungai Deli di bawah jembatan Jl. Brigjend Katamso, Kampung Baru, tidak pernah "
       "dibersihkan.", "web"),
     c("Sampah Sungai Deli Katamso", "Di bawah jembatan Brigjend Katamso Kampung Baru, Sungai Deli penuh sampah "
       "plastik, gak pernah dibersihin.", "app"),
     True, "reworded"),
    (c("Pungli pengurusan SKCK", "Di Polsek Medan Sunggal saya diminta Rp75.000 untuk SKCK tanpa kwitansi, padahal "
       "tarif resmi Rp30.000.", "web"),
     c("", "skck di polsek medan sunggal diminta 75rb tanpa kwitansi, resminya 30rb", "sms"),
     True, "other_channel"),
    (c("Lampu jalan mati Gang Dolly", "Lampu-lampu di Gang Dolly Kelurahan Putat Jaya mati semua sudah seminggu.",
       "app"),
     c("Lmpu mti gng Doly", "lampu2 di gang dolly putat jya mati semua udh semingu", "sms"),
     True, "typos"),
    (c("Sampah di Pantai Losari", "Pengunjung membuang sampah sembarangan di anjungan Pantai Losari dan tidak ada "
       "petugas yang membersihkan sejak akhir pekan.", "app"),
     c("Sampah Losari", "Anjungan pantai losari kotor bgt sampah dimana2 sejak akhir pekan, gak ada petugas bersih2.",
       "social"),
     True, "whatsapp"),
    (c("Pelayanan paspor Kantor Imigrasi Jayapura",
       "Antrean online paspor di Kantor Imigrasi Jayapura penuh sampai dua bulan ke depan, tidak ada layanan "
       "percepatan.", "web"),
     c("Antrean paspor imigrasi jayapura", "Antrian online paspor di imigrasi jayapura penuh sampe 2 bulan ke depan, "
       "gak ada percepatan.", "app"),
     True, "reworded"),

    # --- second batch, hard negatives ------------------------------------------------------------------
    (c("Obat kosong Puskesmas Bandarharjo", "Obat hipertensi di Puskesmas Bandarharjo selalu kosong.", "app"),
     c("Antrean Puskesmas Bandarharjo", "Antrean di Puskesmas Bandarharjo sangat lama, loket baru buka jam 9.", "app"),
     False, "same_street_other_problem"),
    (c("Trans Semarang koridor 2 tidak datang", "Bus Trans Semarang koridor 2 di halte Setiabudi sering tidak datang "
       "lebih dari satu jam.", "web"),
     c("Halte Trans Semarang Setiabudi rusak", "Atap halte Trans Semarang di Setiabudi bocor dan kursinya patah.",
       "web"),
     False, "same_street_other_problem"),
    (c("Rob Tanjung Mas", "Air rob masuk permukiman Tanjung Mas setiap sore, pompa tidak dinyalakan.", "app"),
     c("Jalan rusak di Tanjung Mas", "Jalan di Kelurahan Tanjung Mas rusak parah akibat sering terendam rob, aspal "
       "mengelupas.", "app"),
     False, "same_street_other_problem"),
    (c("Karaoke Kalijudan berisik", "Karaoke di Jl. Kalijudan buka sampai jam 3 pagi dengan suara keras.", "web"),
     c("Parkir karaoke Kalijudan", "Pengunjung karaoke di Jl. Kalijudan parkir di depan rumah warga sampai menutup "
       "jalan masuk gang.", "web"),
     False, "same_street_other_problem"),
    (c("PBB Karuwisi naik", "PBB rumah di Karuwisi naik dari Rp400.000 menjadi Rp1.900.000.", "app"),
     c("PBB Karuwisi salah nama", "SPPT PBB rumah saya di Karuwisi masih atas nama pemilik lama padahal sudah balik "
       "nama.", "app"),
     False, "same_category_other_details"),
    (c("Pungli SKCK Polsek Medan Sunggal", "SKCK di Polsek Medan Sunggal diminta Rp75.000 tanpa kwitansi.", "web"),
     c("SKCK Polsek Medan Sunggal lama", "Pembuatan SKCK di Polsek Medan Sunggal memakan waktu seminggu, padahal "
       "katanya sehari jadi.", "web"),
     False, "same_category_other_details"),
    (c("Lampu jalan mati Gang Dolly", "Lampu di Gang Dolly Putat Jaya mati semua sudah seminggu.", "app"),
     c("Lampu jalan mati Jl. Jarak", "Lampu di Jl. Jarak Putat Jaya mati semua sudah seminggu.", "app"),
     False, "same_problem_other_place"),
    (c("Obat kosong Puskesmas Bandarharjo", "Obat hipertensi di Puskesmas Bandarharjo kosong, disuruh beli di luar.",
       "app"),
     c("Obat kosong Puskesmas Kedungmundu", "Obat hipertensi di Puskesmas Kedungmundu kosong, disuruh beli di luar.",
       "app"),
     False, "same_problem_other_place"),
    (c("", "blt rt 7 rw 3 rungkut kidul dipotong 100rb sm pak rt", "sms"),
     c("", "blt rt 2 rw 5 rungkut kidul dipotong 100rb sm pak rt", "sms"),
     False, "same_problem_other_place"),
    (c("Dokter RSUD Daya telat", "Dokter poli penyakit dalam RSUD Daya baru datang jam 12 padahal jadwal jam 8.", "app"),
     c("Dokter RSUD Haji telat", "Dokter poli penyakit dalam RSUD Haji Makassar baru datang jam 12 padahal jadwal "
       "jam 8.", "app"),
     False, "same_problem_other_place"),
    (c("Sampah Sungai Deli Katamso", "Sampah plastik menumpuk di Sungai Deli bawah jembatan Brigjend Katamso.", "web"),
     c("Sampah Sungai Babura", "Sampah plastik menumpuk di Sungai Babura dekat Jl. Gatot Subroto.", "web"),
     False, "same_problem_other_place"),
    (c("Paving trotoar Raya Darmo lepas", "Paving trotoar Jl. Raya Darmo dekat Taman Bungkul lepas dan berlubang.",
       "app"),
     c("Paving trotoar Tunjungan lepas", "Paving trotoar Jl. Tunjungan dekat Hotel Majapahit lepas dan berlubang.",
       "app"),
     False, "same_problem_other_place"),
    (c("Perpisahan SD Tamamaung 1", "SD Negeri Tamamaung 1 memungut Rp350.000 untuk perpisahan kelas 6.", "web"),
     c("Perpisahan SD Karuwisi 2", "SD Negeri Karuwisi 2 memungut Rp350.000 untuk perpisahan kelas 6.", "web"),
     False, "same_problem_other_place"),
    (c("Listrik padam Perumnas 3 Waena", "Listrik di Perumnas 3 Waena padam hampir setiap malam.", "web"),
     c("Air PDAM mati Perumnas 3 Waena", "Air PDAM di Perumnas 3 Waena tidak mengalir hampir setiap malam.", "web"),
     False, "same_street_other_problem"),
    (c("KTP hilang mau cetak ulang", "KTP saya hilang, syarat cetak ulang di Disdukcapil Makassar apa saja?", "web"),
     c("KK hilang", "KK saya hilang terbawa banjir, bagaimana mengurus KK baru di Disdukcapil Makassar?", "web"),
     False, "same_category_other_details"),
    (c("Ojol mangkal di Stasiun Tawang", "Ojek online mangkal di badan jalan depan Stasiun Tawang.", "app"),
     c("Ojol mangkal di Stasiun Poncol", "Ojek online mangkal di badan jalan depan Stasiun Poncol.", "app"),
     False, "same_problem_other_place"),
    (c("Karaoke berisik", "Karaoke di Jl. Kalijudan berisik sampai jam 3 pagi.", "web"),
     c("Paspor", "Antrean paspor di Imigrasi Jayapura penuh dua bulan.", "web"),
     False, "unrelated"),
    (c("", "obat darah tinggi puskesmas bandarharjo kosong", "sms"),
     c("", "pohon tumbang jl raya sentani dkt expo waena", "sms"),
     False, "unrelated"),
    (c("BRT koridor 2", "BRT koridor 2 arah Terboyo telat sejam.", "social"),
     c("PBB naik", "PBB Karuwisi naik tidak wajar.", "app"),
     False, "unrelated"),
    (c("Rob Tanjung Mas", "Rob masuk rumah warga Tanjung Mas setiap sore.", "app"),
     c("SKCK pungli", "Pungli SKCK di Polsek Medan Sunggal Rp75.000.", "web"),
     False, "unrelated"),

    # --- easy negatives: unrelated ---------------------------------------------------------------------
    (c("Jalan berlubang di Jl. Majapahit", "Lubang besar di Jl. Majapahit depan Pasar Gayamsari.", "app"),
     c("Ijazah ditahan", "SMK swasta di Medan Maimun menahan ijazah anak saya karena tunggakan SPP.", "web"),
     False, "unrelated"),
    (c("", "pohon tumbang di jln raya abepura nutup jalan", "sms"),
     c("NIB katering belum terbit", "Pengajuan NIB lewat OSS di Rappocini sudah 2 bulan belum terbit.", "app"),
     False, "unrelated"),
    (c("Anjing liar", "Banyak anjing liar di Perumahan Pasifik Permai yang menggigit warga.", "app"),
     c("Samsat buka telat", "Loket Samsat Medan Selatan baru buka jam 09.30.", "web"),
     False, "unrelated"),
    (c("Limbah tahu", "Pabrik tahu di Sumurboto membuang limbah ke sungai.", "app"),
     c("Ambulans tidak bisa dihubungi", "Nomor ambulans Puskesmas Kotaraja tidak bisa dihubungi semalam.", "app"),
     False, "unrelated"),
    (c("Terima kasih", "Terima kasih Dinas PU, jalan di depan rumah kami sudah diperbaiki dengan cepat.", "app"),
     c("Mohon info", "Mohon informasi syarat pembuatan paspor untuk anak di bawah umur.", "web"),
     False, "unrelated"),
]


# ---------------------------------------------------------------------------------------------------------
# 2. Seed complaints and places for the generated pairs.
# ---------------------------------------------------------------------------------------------------------

# Places: (street, kelurahan, kecamatan, city, landmark, rt, rw)
PLACES = [
    ("Jl. Majapahit", "Gayamsari", "Gayamsari", "Semarang", "Pasar Gayamsari", 3, 5),
    ("Jl. Pandanaran", "Mugassari", "Semarang Selatan", "Semarang", "Tugu Muda", 2, 1),
    ("Jl. Setiabudi", "Srondol Kulon", "Banyumanik", "Semarang", "kampus Polines", 4, 6),
    ("Jl. Kaligawe Raya", "Terboyo Kulon", "Genuk", "Semarang", "Terminal Terboyo", 1, 3),
    ("Jl. Wolter Monginsidi", "Pedurungan Tengah", "Pedurungan", "Semarang", "Polsek Pedurungan", 7, 2),
    ("Jl. Kenjeran", "Tambakrejo", "Simokerto", "Surabaya", "Pasar Kapasan", 5, 4),
    ("Jl. Raya Darmo", "Darmo", "Wonokromo", "Surabaya", "Taman Bungkul", 2, 8),
    ("Jl. Rungkut Madya", "Rungkut Kidul", "Rungkut", "Surabaya", "SMP Negeri 35", 6, 3),
    ("Jl. Demak", "Tembok Dukuh", "Bubutan", "Surabaya", "Pasar Turi", 9, 7),
    ("Jl. Kalijudan", "Kalijudan", "Mulyorejo", "Surabaya", "Masjid Al Falah", 3, 2),
    ("Jl. Perintis Kemerdekaan", "Tamalanrea", "Tamalanrea", "Makassar", "kampus Unhas", 2, 4),
    ("Jl. AP Pettarani", "Tamamaung", "Panakkukang", "Makassar", "kantor Telkom", 5, 1),
    ("Jl. Urip Sumoharjo", "Karuwisi", "Panakkukang", "Makassar", "flyover Urip", 4, 3),
    ("Jl. Sultan Alauddin", "Gunung Sari", "Rappocini", "Makassar", "kampus UIN", 8, 5),
    ("Jl. Veteran Selatan", "Mamajang Dalam", "Mamajang", "Makassar", "Pasar Pa'baeng-baeng", 1, 6),
    ("Jl. Sisingamangaraja", "Teladan Barat", "Medan Kota", "Medan", "Stadion Teladan", 3, 1),
    ("Jl. Gatot Subroto", "Sei Sikambing B", "Medan Sunggal", "Medan", "Manhattan Times Square", 6, 2),
    ("Jl. Pancing", "Kenangan Baru", "Percut Sei Tuan", "Medan", "Pasar Pancing", 2, 9),
    ("Jl. Brigjend Katamso", "Kampung Baru", "Medan Maimun", "Medan", "Istana Maimun", 4, 4),
    ("Jl. Setia Budi", "Tanjung Sari", "Medan Selayang", "Medan", "Pasar Setia Budi", 7, 3),
    ("Jl. Raya Abepura", "Kota Baru", "Abepura", "Jayapura", "Lingkaran Abepura", 2, 2),
    ("Jl. Percetakan Negara", "Gurabesi", "Jayapura Utara", "Jayapura", "Taman Imbi", 1, 4),
    ("Jl. Baru Kotaraja", "Wahno", "Abepura", "Jayapura", "Gereja Pniel", 3, 6),
    ("Jl. Raya Sentani", "Waena", "Heram", "Jayapura", "Expo Waena", 5, 2),
    ("Jl. Pasifik Permai", "Bhayangkara", "Jayapura Utara", "Jayapura", "Pasar Hamadi", 6, 1),
]

# Per category: formal wordings (title, body) for the app or web, informal WhatsApp/social ones, and one
# terse SMS 1708 wording. Slots: {j} street, {jb} street without "Jl. ", {kel}, {kec}, {kota}, {lm} landmark,
# {rt}, {rw}. Every wording of a category states the same facts, so two wordings of one seed at one place
# describe one complaint.
CATEGORIES = {
    "jalan_rusak": {
        "formal": [
            ("Jalan berlubang di {j}", "Jalan di {j} dekat {lm}, Kelurahan {kel}, Kecamatan {kec}, berlubang besar dan "
             "dalam. Sudah beberapa pengendara motor terjatuh. Mohon segera diperbaiki oleh Dinas PU Kota {kota}."),
            ("Kerusakan jalan {j} Kelurahan {kel}", "Dengan hormat, kami melaporkan kondisi {j} di sekitar {lm} "
             "yang rusak parah dengan banyak lubang. Kondisi ini membahayakan pengguna jalan terutama pada malam hari."),
            ("Mohon perbaikan aspal {j}", "Aspal {j} di Kelurahan {kel} dekat {lm} rusak dan berlubang-lubang, "
             "pengendara sering jatuh. Kami warga {kec} memohon perbaikan."),
        ],
        "informal": [
            ("{jb} rusak parah", "min jalan {jb} deket {lm} {kel} lubangnya gede2 bgt, udah banyak motor jatuh. "
             "kapan dibenerin?"),
            ("Lubang di {jb}", "Tolong dong jalan {jb} dkt {lm} itu bolong2 parah, kemaren ada yg jatuh lagi. "
             "Warga {kel} udah capek lapor."),
        ],
        "sms": "lapor jln {jb} dkt {lm} kel {kel} kec {kec} rusak lobang bnyk motor jatuh mhn diperbaiki",
    },
    "lampu_mati": {
        "formal": [
            ("Lampu penerangan jalan mati di {j}", "Lampu penerangan jalan umum (PJU) di {j} sekitar {lm}, "
             "Kelurahan {kel}, mati sejak beberapa hari. Jalan menjadi gelap dan rawan kejahatan pada malam hari."),
            ("PJU padam {j} Kelurahan {kel}", "Kami melaporkan beberapa lampu jalan di {j} dekat {lm} tidak "
             "menyala. Mohon Dinas Perhubungan Kota {kota} segera memperbaikinya karena rawan kecelakaan."),
        ],
        "informal": [
            ("Lampu jalan {jb} mati", "lampu jalan di {jb} deket {lm} mati semua min, gelap bgt kalo malem, "
             "takut ada begal. {kel}"),
            ("{jb} gelap gulita", "Udah berhari2 lampu pju {jb} dkt {lm} ga nyala. Malem gelap gulita, "
             "rawan kecelakaan. Mohon dibenerin ya."),
        ],
        "sms": "lampu pju jln {jb} dkt {lm} kel {kel} mati udh bbrp hari gelap rawan",
    },
    "sampah": {
        "formal": [
            ("Sampah menumpuk di {j}", "Sampah di tempat pembuangan sementara di {j} dekat {lm}, Kelurahan {kel}, "
             "tidak diangkut selama berhari-hari. Sampah meluber ke jalan dan menimbulkan bau busuk."),
            ("Pengangkutan sampah terhenti di Kelurahan {kel}", "Truk sampah tidak datang ke TPS {j} dekat {lm} "
             "sudah beberapa hari. Tumpukan sampah semakin tinggi dan banyak lalat. Mohon DLH Kota {kota} menindaklanjuti."),
        ],
        "informal": [
            ("Sampah numpuk {jb}", "sampah di tps {jb} dkt {lm} numpuk gak diangkut2 udh berhari2, baunya "
             "sampe ke rumah. warga {kel}"),
            ("TPS {jb} penuh", "Min, TPS di jalan {jb} deket {lm} udah penuh bgt sampahnya tumpah ke jalan, "
             "truknya gak dateng2."),
        ],
        "sms": "sampah tps jln {jb} dkt {lm} kel {kel} gk diangkut bbrp hr numpuk bau",
    },
    "saluran": {
        "formal": [
            ("Saluran air tersumbat di {j}", "Saluran drainase di {j} RT {rt} RW {rw} Kelurahan {kel} tersumbat "
             "sampah dan lumpur. Setiap hujan air meluap dan masuk ke rumah warga."),
            ("Genangan banjir akibat drainase buntu di {j}", "Drainase di {j} sekitar RT {rt}/RW {rw}, Kelurahan "
             "{kel}, buntu sehingga setiap hujan terjadi genangan hingga masuk rumah. Mohon pengerukan saluran."),
        ],
        "informal": [
            ("Got mampet {jb}", "got di {jb} rt {rt} rw {rw} {kel} mampet sampah sama lumpur, tiap ujan airnya "
             "masuk rumah warga. tolong dikeruk min"),
            ("Banjir lagi di {jb}", "Hujan dikit aja {jb} RT {rt} RW {rw} langsung banjir masuk rumah, salurannya "
             "buntu. Kapan dikeruk?"),
        ],
        "sms": "saluran jln {jb} rt {rt} rw {rw} kel {kel} mampet tiap hujan banjir msk rmh",
    },
    "pdam_mati": {
        "formal": [
            ("Air PDAM tidak mengalir di {j}", "Air PDAM di rumah kami di {j} RT {rt} RW {rw}, Kelurahan {kel}, "
             "tidak mengalir sejak beberapa hari tanpa pemberitahuan. Kami kesulitan air bersih."),
            ("Gangguan distribusi air PDAM Kelurahan {kel}", "Distribusi air PDAM Kota {kota} ke {j} RT {rt}/RW {rw} "
             "terhenti sudah beberapa hari. Tidak ada pemberitahuan atau mobil tangki dari PDAM."),
        ],
        "informal": [
            ("PDAM mati {jb}", "air pdam di {jb} rt {rt} rw {rw} mati udah berhari2, ga ada pemberitahuan sama "
             "sekali. terpaksa beli air. {kel}"),
            ("Air mati terus", "Min PDAM, air di daerah {jb} RT {rt} RW {rw} {kel} gak ngalir dari kemaren2, "
             "gak ada info apa2."),
        ],
        "sms": "air pdam jln {jb} rt {rt} rw {rw} kel {kel} mati bbrp hari tdk ada pemberitahuan",
    },
    "pdam_keruh": {
        "formal": [
            ("Air PDAM keruh dan berbau di {j}", "Air PDAM yang mengalir ke rumah kami di {j} RT {rt} RW {rw}, "
             "Kelurahan {kel}, keruh kecoklatan dan berbau sejak beberapa hari. Air tidak layak untuk mandi."),
            ("Kualitas air PDAM buruk di Kelurahan {kel}", "Warga {j} RT {rt}/RW {rw} menerima air PDAM yang berwarna "
             "coklat dan berbau lumpur. Mohon PDAM Kota {kota} memeriksa kualitas air."),
        ],
        "informal": [
            ("Air PDAM coklat", "air pdam di {jb} rt {rt} rw {rw} {kel} keruh coklat kayak air got, bau lagi. "
             "gimana mau mandi"),
            ("PDAM keruh {jb}", "Airnya PDAM di {jb} RT {rt} RW {rw} butek bgt & bau lumpur dr bbrp hari ini."),
        ],
        "sms": "air pdam jln {jb} rt {rt} rw {rw} kel {kel} keruh coklat bau bbrp hari",
    },
    "pungli_kelurahan": {
        "formal": [
            ("Pungutan liar di Kantor Kelurahan {kel}", "Saat mengurus surat keterangan domisili di Kantor Kelurahan "
             "{kel}, Kecamatan {kec}, saya diminta membayar Rp50.000 oleh petugas tanpa kwitansi, padahal layanan gratis."),
            ("Petugas Kelurahan {kel} meminta uang", "Petugas loket Kelurahan {kel} ({kec}, Kota {kota}) meminta "
             "uang Rp50.000 untuk surat domisili dan tidak memberi bukti pembayaran."),
        ],
        "informal": [
            ("Pungli kelurahan {kel}", "ngurus surat domisili di kelurahan {kel} {kec} dimintain 50rb sama "
             "petugasnya, ga ada kwitansi. katanya gratis?"),
            ("Bayar 50rb di kelurahan", "Masa bikin surat domisili di kel {kel} disuruh bayar 50 ribu, gak dikasih "
             "kwitansi. Bukannya gratis ya min."),
        ],
        "sms": "pungli kel {kel} kec {kec} surat domisili diminta 50rb tanpa kwitansi",
    },
    "ktp_lambat": {
        "formal": [
            ("KTP elektronik belum jadi di Disdukcapil Kota {kota}", "Saya warga Kelurahan {kel}, Kecamatan {kec}, "
             "sudah merekam KTP-el di Disdukcapil Kota {kota} lebih dari dua bulan lalu, tetapi sampai sekarang belum "
             "dicetak dengan alasan blangko habis."),
            ("Pencetakan KTP-el tertunda", "Sudah lebih dari dua bulan sejak perekaman, KTP elektronik saya (warga "
             "{kel}, {kec}) belum dicetak Disdukcapil Kota {kota}. Alasannya selalu blangko kosong."),
        ],
        "informal": [
            ("KTP gak jadi2", "udah 2 bulan lebih rekam ktp di dukcapil {kota}, blm jadi jg, alesannya blangko "
             "habis mulu. sy warga {kel} {kec}"),
            ("e-KTP belum dicetak", "Min, KTP-el sy udh 2 bln lebih blm dicetak dukcapil {kota}, katanya blangko "
             "kosong. Warga {kel}."),
        ],
        "sms": "ktp el blm dicetak dukcapil {kota} udh 2 bln lbh alasan blangko habis warga kel {kel} kec {kec}",
    },
    "bpjs_rs": {
        "formal": [
            ("Pasien BPJS ditelantarkan di rumah sakit Kota {kota}", "Ayah saya, pasien BPJS warga Kelurahan {kel}, "
             "dibiarkan di IGD rumah sakit dekat {lm} lebih dari 8 jam tanpa penanganan dokter dengan alasan kamar penuh."),
            ("Pelayanan IGD terhadap pasien BPJS", "Pasien BPJS (ayah saya) menunggu lebih dari delapan jam di IGD "
             "rumah sakit dekat {lm}, Kota {kota}, tanpa diperiksa dokter. Alasannya kamar rawat inap penuh."),
        ],
        "informal": [
            ("BPJS dicuekin di IGD", "bapak sy pasien bpjs udh 8 jam lebih di igd rs deket {lm} blm diperiksa "
             "dokter, katanya kamar penuh. kami warga {kel}"),
            ("IGD lama banget", "Masa pasien BPJS dibiarin 8 jam di IGD RS dkt {lm} {kota} gak ditangani dokter, "
             "alesan kamar penuh. Itu bapak saya."),
        ],
        "sms": "bpjs bpk sy 8 jam di igd rs dkt {lm} {kota} blm diperiksa dokter alasan kamar penuh",
    },
    "ppdb": {
        "formal": [
            ("PPDB zonasi tidak transparan di Kota {kota}", "Anak saya yang tinggal di {j} Kelurahan {kel} tidak "
             "diterima di SMP negeri terdekat dekat {lm} melalui jalur zonasi, padahal jarak rumah kurang dari 500 meter."),
            ("Keberatan hasil PPDB jalur zonasi", "Rumah kami di {j} ({kel}) berjarak kurang dari 500 meter dari SMP "
             "negeri dekat {lm}, tetapi anak kami tidak lolos jalur zonasi. Mohon penjelasan Dinas Pendidikan Kota {kota}."),
        ],
        "informal": [
            ("Zonasi aneh", "rumah sy di {jb} {kel} deket bgt sm smp negeri dkt {lm}, gak sampe 500m, tp anak sy "
             "gak lolos zonasi. kok bisa?"),
            ("Anak ga keterima zonasi", "Jarak rumah di {jb} ke SMPN dkt {lm} cm 500an meter tp anak saya gak keterima "
             "zonasi. Mohon dijelaskan."),
        ],
        "sms": "ppdb zonasi anak sy tdk diterima smp negeri dkt {lm} rmh di jln {jb} kel {kel} jarak krg 500m",
    },
    "izin_usaha": {
        "formal": [
            ("Izin usaha tidak kunjung terbit di DPMPTSP Kota {kota}", "Saya mengajukan izin usaha warung makan di {j}, "
             "Kelurahan {kel}, melalui OSS dan DPMPTSP Kota {kota} sejak lebih dari satu bulan, namun belum ada keputusan."),
            ("Permohonan izin usaha warung makan tertunda", "Permohonan izin usaha warung makan saya di {j} ({kel}, "
             "{kec}) sudah lebih dari sebulan berstatus diproses di DPMPTSP Kota {kota} tanpa kejelasan."),
        ],
        "informal": [
            ("Izin warung gak jelas", "udah sebulan lebih ngajuin izin warung makan di {jb} {kel} lewat oss, "
             "dpmptsp {kota} blm ada kabar sama sekali"),
            ("Izin usaha lama", "Min, izin usaha warung makan sy di {jb} {kel} udh lebih sebulan statusnya diproses "
             "terus di DPMPTSP."),
        ],
        "sms": "izin usaha warung makan jln {jb} kel {kel} di dpmptsp {kota} lbh sebulan blm terbit",
    },
    "pohon_tumbang": {
        "formal": [
            ("Pohon tumbang menutup {j}", "Sebuah pohon besar tumbang di {j} dekat {lm}, Kelurahan {kel}, dan menutup "
             "sebagian badan jalan sejak tadi malam. Belum ada petugas yang menangani."),
            ("Mohon evakuasi pohon tumbang di {j}", "Pohon tumbang melintang di {j} sekitar {lm} sejak semalam dan "
             "mengganggu lalu lintas. Mohon segera dievakuasi."),
        ],
        "informal": [
            ("Pohon tumbang {jb}", "ada pohon gede tumbang di {jb} deket {lm} dr semalem, nutup setengah jalan. "
             "blm ada petugas dateng"),
            ("Jalan {jb} ketutup pohon", "Min pohon tumbang di jalan {jb} dkt {lm} {kel}, separuh jalan ketutup "
             "dari tadi malem."),
        ],
        "sms": "pohon tumbang jln {jb} dkt {lm} kel {kel} nutup jalan dr semalam blm ada petugas",
    },
    "parkir_liar": {
        "formal": [
            ("Parkir liar di bahu {j}", "Kendaraan parkir sembarangan di bahu jalan dan trotoar {j} dekat {lm}, "
             "Kelurahan {kel}, sehingga terjadi kemacetan setiap sore. Juru parkir menarik tarif di luar ketentuan."),
            ("Penertiban parkir liar {j}", "Mohon Dinas Perhubungan Kota {kota} menertibkan parkir liar di {j} sekitar "
             "{lm} yang memakan badan jalan dan trotoar serta memungut tarif tidak resmi."),
        ],
        "informal": [
            ("Parkir liar {jb}", "tiap sore {jb} dkt {lm} macet gara2 parkir liar di trotoar sm bahu jalan, "
             "jukirnya narik seenaknya"),
            ("Jukir liar {jb}", "Parkir liar di trotoar {jb} deket {lm} bikin macet tiap sore, jukir minta bayar "
             "mahal. Tolong ditertibkan."),
        ],
        "sms": "parkir liar trotoar jln {jb} dkt {lm} kel {kel} macet tiap sore jukir tarik tarif liar",
    },
    "pkl": {
        "formal": [
            ("Pedagang kaki lima menutup trotoar {j}", "Pedagang kaki lima berjualan di trotoar dan badan jalan {j} "
             "depan {lm}, Kelurahan {kel}, sehingga pejalan kaki terpaksa berjalan di jalan raya."),
            ("Penataan PKL di {j}", "Lapak PKL di depan {lm} ({j}) memenuhi trotoar hingga badan jalan. Mohon Satpol "
             "PP Kota {kota} menata pedagang tersebut."),
        ],
        "informal": [
            ("PKL {jb}", "trotoar {jb} dpn {lm} penuh lapak pkl sampe ke jalan, pejalan kaki jalan di aspal"),
            ("Trotoar dikuasai PKL", "Min trotoar depan {lm} di {jb} abis dipake PKL, orang jalan kaki harus "
             "turun ke jalan. Bahaya."),
        ],
        "sms": "pkl jualan di trotoar jln {jb} dpn {lm} kel {kel} pejalan kaki turun ke jalan",
    },
    "bansos": {
        "formal": [
            ("Bantuan sosial tidak tepat sasaran di RT {rt} RW {rw} Kelurahan {kel}", "Penerima bantuan sosial di "
             "RT {rt} RW {rw} Kelurahan {kel}, Kecamatan {kec}, banyak warga mampu, sedangkan warga miskin dan lansia "
             "tidak terdata. Mohon verifikasi ulang data penerima."),
            ("Verifikasi ulang data penerima bansos Kelurahan {kel}", "Kami warga RT {rt}/RW {rw} Kelurahan {kel} "
             "melihat bansos diterima keluarga yang berkecukupan, sementara keluarga miskin tidak menerima."),
        ],
        "informal": [
            ("Bansos salah sasaran", "bansos di rt {rt} rw {rw} {kel} yg dapet malah org mampu, yg miskin sm "
             "lansia gak dapet. tolong dicek datanya"),
            ("Bansos {kel}", "Yg nerima bansos di RT {rt} RW {rw} kel {kel} orang2 kaya, lansia miskin malah "
             "gak kedata. Tolong diverifikasi ulang min."),
        ],
        "sms": "bansos rt {rt} rw {rw} kel {kel} kec {kec} tdk tepat sasaran org mampu dpt warga miskin tdk",
    },
    "guru_honorer": {
        "formal": [
            ("Honor guru honorer belum dibayar di Kecamatan {kec}", "Kami guru honorer di sekolah dasar negeri dekat "
             "{lm}, Kecamatan {kec}, Kota {kota}, belum menerima honor selama tiga bulan. Pihak sekolah menyebut dana "
             "belum cair."),
            ("Keterlambatan pembayaran honor guru", "Honor guru honorer SD negeri dekat {lm} ({kec}, Kota {kota}) "
             "sudah tiga bulan tidak dibayarkan. Mohon Dinas Pendidikan menindaklanjuti."),
        ],
        "informal": [
            ("Honor belum cair", "sy guru honor di sd negeri dkt {lm} {kec}, udh 3 bulan honornya blm dibayar, "
             "kata sekolah dananya blm cair"),
            ("Guru honorer 3 bln gak digaji", "Min, kami guru honorer SDN dekat {lm} {kec} {kota} udah tiga bulan "
             "gak dibayar honornya."),
        ],
        "sms": "guru honorer sd negeri dkt {lm} kec {kec} {kota} honor 3 bln blm dibayar",
    },
}

CAT_NAMES = sorted(CATEGORIES)

# ---------------------------------------------------------------------------------------------------------
# Variation rules.
# ---------------------------------------------------------------------------------------------------------


def fill(template, place):
    street, kel, kec, kota, lm, rt, rw = place
    jb = street.replace("Jl. ", "")
    return template.format(j=street, jb=jb, kel=kel, kec=kec, kota=kota, lm=lm, rt=f"{rt:02d}", rw=f"{rw:02d}")


def typo_word(rng, word):
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:  # drop a letter
        return word[:i] + word[i + 1:]
    if op == 1:  # swap two letters
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1:]
    if op == 2:  # double a letter
        return word[:i] + word[i] + word[i:]
    near = {"a": "s", "e": "r", "i": "o", "o": "p", "u": "y", "n": "m", "m": "n", "r": "t", "s": "a", "t": "r",
            "k": "l", "l": "k", "g": "h", "h": "g", "b": "v", "d": "f", "p": "o", "j": "k", "y": "u"}
    ch = word[i].lower()
    return word[:i] + near.get(ch, ch) + word[i + 1:]


def typos(rng, text, rate=0.15):
    words = text.split(" ")
    return " ".join(typo_word(rng, w) if rng.random() < rate else w for w in words)


def sms_variant(rng, text):
    """A formal body squeezed the way people type into SMS 1708: lower case, abbreviations, no punctuation."""
    subs = {"jalan": "jln", "yang": "yg", "tidak": "tdk", "sudah": "sdh", "dengan": "dgn", "karena": "krn",
            "untuk": "utk", "kelurahan": "kel", "kecamatan": "kec", "belum": "blm", "sejak": "sjk", "dekat": "dkt",
            "beberapa": "bbrp", "mohon": "mhn", "rumah": "rmh", "hari": "hr", "bulan": "bln", "saya": "sy"}
    out = []
    for w in text.lower().replace(",", "").replace(".", "").replace("(", "").replace(")", "").split():
        if w in {"dengan", "hormat", "kami", "melaporkan"} and rng.random() < 0.7:
            continue
        out.append(subs.get(w, w))
    return " ".join(out)


def wording(rng, cat, style, place, avoid=None):
    """One (title, body, channel) of a category at a place in a style: formal, informal or sms."""
    spec = CATEGORIES[cat]
    if style == "sms":
        return c("", fill(spec["sms"], place).lower(), "sms"), ("sms", 0)
    options = list(range(len(spec[style])))
    if avoid is not None and avoid[0] == style and len(options) > 1:
        options.remove(avoid[1])
    k = rng.choice(options)
    title, body = spec[style][k]
    channel = rng.choice(["app", "web"]) if style == "formal" else rng.choice(["whatsapp", "social", "app"])
    return c(fill(title, place), fill(body, place), channel), (style, k)


def other_place(rng, place, same_city):
    pool = [p for p in PLACES if p != place and (p[3] == place[3]) == same_city]
    return rng.choice(pool)


def generate(rng):
    pairs = []

    def pos(kind, style_a, style_b, n, with_typos=False):
        for _ in range(n):
            cat = rng.choice(CAT_NAMES)
            place = rng.choice(PLACES)
            a, key = wording(rng, cat, style_a, place)
            b, _ = wording(rng, cat, style_b, place, avoid=key)
            if with_typos:
                b = dict(b, title=typos(rng, b["title"]), body=typos(rng, b["body"]))
            pairs.append((a, b, True, kind))

    def neg(kind, n):
        for _ in range(n):
            style_a = rng.choice(["formal", "formal", "informal", "sms"])
            style_b = rng.choice(["formal", "informal", "informal", "sms"])
            cat_a = rng.choice(CAT_NAMES)
            place_a = rng.choice(PLACES)
            if kind == "same_street_other_problem":
                cat_b = rng.choice([x for x in CAT_NAMES if x != cat_a])
                place_b = place_a
            elif kind == "same_problem_other_place":
                cat_b = cat_a
                place_b = other_place(rng, place_a, same_city=rng.random() < 0.7)
            else:
                cat_b = rng.choice([x for x in CAT_NAMES if x != cat_a])
                place_b = other_place(rng, place_a, same_city=False)
            if cat_b == cat_a and style_a == style_b == "sms":
                style_b = "informal"
            a, key = wording(rng, cat_a, style_a, place_a)
            b, _ = wording(rng, cat_b, style_b, place_b, avoid=key if cat_b == cat_a else None)
            pairs.append((a, b, False, kind))

    pos("reworded", "formal", "formal", 32)
    pos("other_channel", "formal", "sms", 34)
    pos("whatsapp", "formal", "informal", 34)
    pos("typos", "formal", "formal", 12, with_typos=True)
    pos("typos", "informal", "sms", 10, with_typos=True)
    neg("same_street_other_problem", 48)
    neg("same_problem_other_place", 52)
    neg("unrelated", 30)
    return pairs


def main():
    rng = random.Random(SEED)
    pairs = [p + ("hand",) for p in HAND] + [p + ("generated",) for p in generate(rng)]
    lines = []
    for a, b, dup, kind, source in pairs:
        if rng.random() < 0.5:  # the detector is symmetric; so is the set
            a, b = b, a
        row = {"a": a, "b": b, "duplicate": dup, "kind": kind, "source": source}
        lines.append(json.dumps(row, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_pos = sum(1 for p in pairs if p[2])
    print(f"{OUT.name}: {len(pairs)} pairs ({len(HAND)} hand-written), {n_pos} duplicates, {len(pairs) - n_pos} not")


if __name__ == "__main__":
    main()
