//! Invitations built per second by `calendar::invite::to_ics`, for the comparison with
//! Python's icalendar in `../shared/bench/py_icalendar_invites.py` (bench/invites.sh runs
//! both in one go). Each invitation is shaped like the Python reference's: one delegate at
//! a bridge point of the seeded morning conference, its agenda as description.
//!
//! usage: cargo bench --bench invites -- [N] [OUTFILE]
use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use hoinghi::calendar::invite::{Attendee, Day, Invite, Method, Party, Prepared, to_ics};
use hoinghi::domain::kinds::{DelegateRole, Reply};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let out_path = args.get(1).cloned();
    let description = "7h30-8h00 Đón tiếp đại biểu\n8h00-8h10 Tuyên bố lí do, giới thiệu đại biểu\n8h10-8h15 Phát biểu Khai mạc Hội nghị\n8h15-8h30 Giới thiệu khái quát Thông tư số 24; công tác triển khai, thực hiện trên địa bàn thành phố\n8h30-10h00 Hướng dẫn lập hồ sơ đề nghị đánh giá, công nhận\n10h20-11h00 Ý kiến tham luận, phát biểu, đề xuất liên quan\n11h20-11h30 Kết luận Hội nghị";
    let mut invite = Invite {
        method: Method::Request,
        uid: String::new(),
        sequence: 0,
        stamp: utc("2024-12-13T01:00:00Z"),
        time_zone: chrono_tz::Asia::Ho_Chi_Minh,
        days: vec![Day {
            starts_at: utc("2024-12-18T01:00:00Z"),
            ends_at: utc("2024-12-18T04:30:00Z"),
        }],
        summary: "Hội nghị tập huấn về xây dựng “Đơn vị học tập” cấp huyện, tỉnh".into(),
        location: String::new(),
        description: description.into(),
        url: None,
        organizer: Party {
            name: "Sở Giáo dục và Đào tạo Hải Phòng".into(),
            email: "gdtx@haiphong.edu.vn".into(),
        },
        attendees: vec![Attendee {
            party: Party {
                name: String::new(),
                email: String::new(),
            },
            role: DelegateRole::ReqParticipant,
            reply: Reply::NeedsAction,
        }],
        // The Python reference writes no reminders; neither does this run.
        alarms: Vec::<Duration>::new(),
    };
    let mut bytes = 0usize;
    let mut sink: Box<dyn Write> = match &out_path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).expect("output file"),
        )),
        None => Box::new(std::io::sink()),
    };
    let t = Instant::now();
    for i in 0..n {
        invite.uid = format!("conf-42-delegate-{i}@so-gddt.haiphong.gov.vn");
        invite.location = format!("Điểm cầu Trường THCS số {}, huyện Thủy Nguyên", i % 31 + 1);
        invite.attendees[0].party.name = format!("Đại biểu số {i}");
        invite.attendees[0].party.email = format!("daibieu{i}@thuynguyen.edu.vn");
        let ics = to_ics(&invite);
        bytes += ics.len();
        sink.write_all(ics.as_bytes()).expect("write");
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "to_ics:   {n} invites in {s:.3} s = {:.0} invites/s, {bytes} bytes",
        n as f64 / s
    );

    // The fan-out path: what is common written once, then each delegate's lines.
    let mut bytes = 0usize;
    let mut out = String::with_capacity(2048);
    let t = Instant::now();
    let prepared = Prepared::new(&invite);
    for i in 0..n {
        invite.uid.clear();
        invite.location.clear();
        use std::fmt::Write as _;
        let _ = write!(invite.uid, "conf-42-delegate-{i}@so-gddt.haiphong.gov.vn");
        let _ = write!(
            invite.location,
            "Điểm cầu Trường THCS số {}, huyện Thủy Nguyên",
            i % 31 + 1
        );
        let a = &mut invite.attendees[0];
        a.party.name.clear();
        a.party.email.clear();
        let _ = write!(a.party.name, "Đại biểu số {i}");
        let _ = write!(a.party.email, "daibieu{i}@thuynguyen.edu.vn");
        out.clear();
        prepared.render(
            &invite.uid,
            &invite.location,
            &invite.attendees[0],
            &mut out,
        );
        bytes += out.len();
        sink.write_all(out.as_bytes()).expect("write");
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "prepared: {n} invites in {s:.3} s = {:.0} invites/s, {bytes} bytes",
        n as f64 / s
    );
}
