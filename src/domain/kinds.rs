//! The closed vocabularies of the glossary. Each is stored as its snake_case name, sent
//! as that name in JSON, and has a Vietnamese label for documents and messages.
use sea_orm::Iterable;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal : $vi:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $( #[sea_orm(string_value = $s)] #[serde(rename = $s)] $variant ),+
        }

        impl $name {
            /// The Vietnamese name, as documents print it.
            pub fn label_vi(self) -> &'static str {
                match self { $( Self::$variant => $vi ),+ }
            }

            /// The stored and serialised name.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $s ),+ }
            }
        }
    };
}

vocabulary! {
    /// What kind of organisation a unit is. Levels of government are not kinds: they
    /// are [`AreaLevel`], so that three-level (before 07/2025) and two-level data fit.
    UnitKind {
        Ministry = "ministry": "Bộ",
        PeopleCommittee = "people_committee": "Ủy ban nhân dân",
        PeopleCouncil = "people_council": "Hội đồng nhân dân",
        PartyCommittee = "party_committee": "Cấp ủy",
        Department = "department": "Sở",
        EducationOffice = "education_office": "Phòng Giáo dục và Đào tạo",
        Division = "division": "Phòng, ban chuyên môn",
        School = "school": "Cơ sở giáo dục",
        Association = "association": "Hội",
        PoliticalOrganisation = "political_organisation": "Tổ chức chính trị - xã hội",
        Agency = "agency": "Cơ quan",
        Enterprise = "enterprise": "Doanh nghiệp",
        Other = "other": "Khác",
    }
}

vocabulary! {
    /// The level of a school or education centre.
    SchoolLevel {
        Mn = "mn": "Mầm non",
        Th = "th": "Tiểu học",
        Thcs = "thcs": "Trung học cơ sở",
        Thpt = "thpt": "Trung học phổ thông",
        LienCap = "lien_cap": "Phổ thông nhiều cấp học",
        GdnnGdtx = "gdnn_gdtx": "Giáo dục nghề nghiệp - Giáo dục thường xuyên",
        Gdtx = "gdtx": "Giáo dục thường xuyên",
        CaoDang = "cao_dang": "Cao đẳng",
        DaiHoc = "dai_hoc": "Đại học",
        Other = "other": "Khác",
    }
}

vocabulary! {
    /// The level of government a unit belongs to. `district` exists only in data from
    /// before the two-level reform of 01/07/2025.
    AreaLevel {
        Central = "central": "Trung ương",
        Province = "province": "Cấp tỉnh",
        District = "district": "Cấp huyện",
        Commune = "commune": "Cấp xã",
    }
}

vocabulary! {
    /// How delegates attend a conference.
    ConferenceMode {
        InPerson = "in_person": "Trực tiếp",
        Online = "online": "Trực tuyến",
        Hybrid = "hybrid": "Trực tiếp kết hợp trực tuyến",
    }
}

vocabulary! {
    /// Where a conference stands; only published conferences send invitations.
    ConferenceStatus {
        Draft = "draft": "Dự thảo",
        Published = "published": "Đã công bố",
        Cancelled = "cancelled": "Đã hủy",
    }
}

vocabulary! {
    /// Where a delegate or an attendance rule attends.
    Venue {
        Hall = "hall": "Hội trường",
        BridgePoint = "bridge_point": "Điểm cầu",
        Online = "online": "Trực tuyến cá nhân",
    }
}

vocabulary! {
    /// A delegate's role (iCalendar ROLE).
    DelegateRole {
        Chair = "chair": "Chủ trì",
        ReqParticipant = "req_participant": "Đại biểu",
        OptParticipant = "opt_participant": "Đại biểu (không bắt buộc)",
    }
}

vocabulary! {
    /// A delegate's reply (iCalendar PARTSTAT).
    Reply {
        NeedsAction = "needs_action": "Chưa trả lời",
        Accepted = "accepted": "Tham dự",
        Declined = "declined": "Không tham dự",
        Tentative = "tentative": "Chưa chắc chắn",
    }
}

vocabulary! {
    /// What a user may do.
    Role {
        Admin = "admin": "Quản trị",
        DepartmentStaff = "department_staff": "Cán bộ Sở",
        DistrictOffice = "district_office": "Cán bộ phòng/xã điều phối điểm cầu",
    }
}

vocabulary! {
    /// What an e-mail of the outbox is.
    MessageKind {
        Invitation = "invitation": "Giấy mời đại biểu",
        UnitSummary = "unit_summary": "Danh sách đại biểu gửi đơn vị",
        Nomination = "nomination": "Giấy mời đơn vị cử đại biểu",
        BridgeContact = "bridge_contact": "Giấy mời cán bộ kỹ thuật điểm cầu",
        Test = "test": "Thư thử",
    }
}

vocabulary! {
    /// Whose conferences a calendar feed lists.
    FeedScope {
        Person = "person": "Đại biểu",
        Unit = "unit": "Đơn vị",
        Conference = "conference": "Hội nghị",
    }
}

vocabulary! {
    /// Where an e-mail of the outbox is on its way.
    OutboxState {
        Pending = "pending": "Chờ gửi",
        Sending = "sending": "Đang gửi",
        Sent = "sent": "Đã gửi",
        Failed = "failed": "Gửi không được",
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::iter().find(|r| r.as_str() == s).ok_or_else(|| {
            let all: Vec<_> = Role::iter().map(Role::as_str).collect();
            format!("unknown role `{s}` (one of: {})", all.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_snake_case_names() {
        assert_eq!(
            serde_json::to_string(&UnitKind::EducationOffice).unwrap(),
            "\"education_office\""
        );
        assert_eq!(
            serde_json::from_str::<Venue>("\"bridge_point\"").unwrap(),
            Venue::BridgePoint
        );
        assert_eq!(Reply::NeedsAction.as_str(), "needs_action");
        assert_eq!(
            "district_office".parse::<Role>().unwrap(),
            Role::DistrictOffice
        );
        assert!("root".parse::<Role>().is_err());
    }
}
