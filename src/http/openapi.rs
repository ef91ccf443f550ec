//! `GET /api/v1/openapi.json`, built from the same resource registry as the routes
//! (`for_each_resource!`), with schemas derived from the very types the handlers use.
use actix_web::{HttpResponse, web};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Ref, RefOr,
    Required, Schema,
};
use utoipa::{PartialSchema, ToSchema};

use super::AppState;
use super::auth::{LoginInput, Me, TokenInput, TokenOutput};
use super::error::ErrorBody;
use crate::for_each_resource;
use crate::services::agenda::{AgendaChange, InsertItem, MoveItem, Publish, Reschedule};
use crate::services::checks::Report;
use crate::services::crud::{DEFAULT_PER_PAGE, MAX_PER_PAGE, Resource};
use crate::services::nested::ConferenceDetail;

struct Doc {
    paths: PathsBuilder,
    components: ComponentsBuilder,
}

fn json_content(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// A required JSON body of schema `name`.
fn json_body(name: &str) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/json", json_content(reference(name)))
        .build()
}

/// A required body that is a file (CSV or XLSX).
fn file_body() -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .content("application/octet-stream", ContentBuilder::new().build())
        .build()
}

fn reference(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn response(description: &str, schema: Option<RefOr<Schema>>) -> utoipa::openapi::Response {
    let mut r = ResponseBuilder::new().description(description);
    if let Some(s) = schema {
        r = r.content("application/json", json_content(s));
    }
    r.build()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    response(description, Some(reference("ErrorBody").into()))
}

fn id_param() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(
                utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64),
            )),
        ))
        .build()
}

fn query_param(name: &str, description: &str, ty: Type) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
        .build()
}

impl Doc {
    fn schema<T: ToSchema>(&mut self) {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        let mut c = std::mem::take(&mut self.components);
        c = c
            .schema(T::name(), <T as PartialSchema>::schema())
            .schemas_from_iter(nested);
        self.components = c;
    }

    fn op(&mut self, path: &str, method: HttpMethod, op: OperationBuilder) {
        let paths = std::mem::take(&mut self.paths);
        self.paths = paths.path(path, PathItem::new(method, op.build()));
    }

    /// The scheduling checks and the agenda edits (`http::checks`).
    fn checks(&mut self) {
        let report = |what: &str| response(what, Some(reference("Report").into()));
        let change = |what: &str| response(what, Some(reference("AgendaChange").into()));
        let body = |name: &str| {
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", json_content(reference(name)))
                .build()
        };
        let refused =
            || error_response("refused by the checks (`checks_failed`, with the diagnostics)");
        self.op(
            "/api/v1/conferences/{id}/checks",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("conference_checks"))
                .summary(Some(
                    "Scheduling checks of a conference, against every conference it overlaps",
                ))
                .parameter(id_param())
                .response("200", report("the diagnostics"))
                .response("404", error_response("no such conference")),
        );
        self.op(
            "/api/v1/plans/{id}/checks",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("plan_checks"))
                .summary(Some("Scheduling checks of every conference of a plan"))
                .parameter(id_param())
                .response("200", report("the diagnostics"))
                .response("404", error_response("no such plan")),
        );
        self.op(
            "/api/v1/checks",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("period_checks"))
                .summary(Some(
                    "Scheduling checks of every conference overlapping a period",
                ))
                .parameter(query_param(
                    "from",
                    "first day (2024-12-18, Asia/Ho_Chi_Minh) or an instant; required",
                    Type::String,
                ))
                .parameter(query_param(
                    "to",
                    "last day, included, or an instant; required",
                    Type::String,
                ))
                .response("200", report("the diagnostics"))
                .response("422", error_response("a missing or invalid `from`/`to`")),
        );
        self.op(
            "/api/v1/conferences/{id}/agenda",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("insert_agenda_item"))
                .summary(Some(
                    "Insert an agenda item; with `reflow`, later items move back by its length",
                ))
                .parameter(id_param())
                .request_body(Some(body("InsertItem")))
                .response("201", change("the new agenda and its checks"))
                .response("422", error_response("invalid item")),
        );
        self.op(
            "/api/v1/conferences/{id}/agenda/{item_id}/move",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("move_agenda_item"))
                .summary(Some("Move an agenda item; with `shift_following`, every later item by the same amount"))
                .parameter(id_param())
                .parameter(
                    ParameterBuilder::new()
                        .name("item_id")
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                        .build(),
                )
                .request_body(Some(body("MoveItem")))
                .response("200", change("the new agenda and its checks"))
                .response("404", error_response("no such conference or item")),
        );
        self.op(
            "/api/v1/conferences/{id}/reschedule",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("reschedule_conference"))
                .summary(Some(
                    "Move a conference and its whole agenda to a new start",
                ))
                .parameter(id_param())
                .request_body(Some(body("Reschedule")))
                .response("200", change("the moved conference, its agenda and checks")),
        );
        self.op(
            "/api/v1/conferences/{id}/publish",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("checks")
                .operation_id(Some("publish_conference"))
                .summary(Some(
                    "Publish: refused while an error remains, or a warning not acknowledged",
                ))
                .parameter(id_param())
                .request_body(Some(body("Publish")))
                .response("200", change("published, with its warnings"))
                .response("409", refused()),
        );
    }

    /// Documents rendered from templates (`http::documents`).
    fn documents(&mut self) {
        let format = ParameterBuilder::new()
            .name("format")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(
                "`html` (A4, ready to print), `txt` or `docx` (Word, LibreOffice)",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["html", "txt", "docx"])),
            ))
            .build();
        self.op(
            "/api/v1/conferences/{id}/agenda.{format}",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("documents")
                .operation_id(Some("conference_agenda"))
                .summary(Some("The agenda (Chương trình) of a conference"))
                .parameter(id_param())
                .parameter(format.clone())
                .response("200", response("the document", None))
                .response("404", error_response("no such conference or format")),
        );
        self.op(
            "/api/v1/plans/{id}/document.{format}",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("documents")
                .operation_id(Some("plan_document"))
                .summary(Some(
                    "The plan (Kế hoạch) with its appendices: speakers, agenda, bridge points, tasks",
                ))
                .parameter(id_param())
                .parameter(format.clone())
                .response("200", response("the document", None))
                .response("404", error_response("no such plan or format")),
        );
        let unit = ParameterBuilder::new()
            .name("unit_id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("the invited unit"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .build();
        self.op(
            "/api/v1/conferences/{id}/letters/{unit_id}.{format}",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("documents")
                .operation_id(Some("conference_letter"))
                .summary(Some(
                    "The invitation letter (Giấy mời) of a conference to one invited unit",
                ))
                .parameter(id_param())
                .parameter(unit)
                .parameter(format.clone())
                .response("200", response("the document", None))
                .response("404", error_response("no such conference, unit or format"))
                .response("422", error_response("the unit is not invited")),
        );
        let delegate = ParameterBuilder::new()
            .name("delegate_id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some("a delegate of the conference"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .build();
        self.op(
            "/api/v1/conferences/{id}/delegates/{delegate_id}/invite.ics",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("documents")
                .operation_id(Some("delegate_invite"))
                .summary(Some(
                    "The delegate's invitation as iCalendar (METHOD REQUEST, or CANCEL once the conference is cancelled)",
                ))
                .parameter(id_param())
                .parameter(delegate.clone())
                .response("200", response("the calendar file", None))
                .response("404", error_response("no such conference or delegate"))
                .response("422", error_response("the delegate has no e-mail address")),
        );
        self.op(
            "/api/v1/conferences/{id}/delegates/{delegate_id}/invite.eml",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("documents")
                .operation_id(Some("delegate_invite_email"))
                .summary(Some(
                    "The invitation e-mail a delegate will receive (message/rfc822, iMIP layout)",
                ))
                .parameter(id_param())
                .parameter(delegate)
                .response("200", response("the message", None))
                .response("404", error_response("no such conference or delegate"))
                .response(
                    "422",
                    error_response("the delegate or organiser has no address"),
                ),
        );
    }

    /// Sending invitations and the outbox (`http::invitations`).
    fn invitations(&mut self) {
        let json = |what: &str, name: &str| response(what, Some(reference(name).into()));
        self.op(
            "/api/v1/conferences/{id}/invitations/preview",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("preview_invitations"))
                .summary(Some(
                    "What sending would send: recipients per unit, problems to fix, one sample message",
                ))
                .parameter(id_param())
                .response("200", json("the preview", "Preview"))
                .response("422", error_response("the organiser has no mailbox")),
        );
        self.op(
            "/api/v1/conferences/{id}/invitations/send",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("send_invitations"))
                .summary(Some(
                    "Put every invitation in the outbox (REQUEST, or CANCEL once cancelled); sent after the commit",
                ))
                .parameter(id_param())
                .response("202", json("enqueued", "Sent"))
                .response("409", error_response("the conference is a draft")),
        );
        self.op(
            "/api/v1/conferences/{id}/outbox",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("conference_outbox"))
                .summary(Some("Messages by state, and each failure with its reason"))
                .parameter(id_param())
                .response("200", json("the outbox", "OutboxReport")),
        );
        self.op(
            "/api/v1/conferences/{id}/outbox/retry",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("retry_outbox"))
                .summary(Some("Try the failed messages again"))
                .parameter(id_param())
                .response("200", json("how many", "Retried")),
        );
        self.op(
            "/api/v1/conferences/{id}/replies",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("conference_replies"))
                .summary(Some(
                    "Replies (PARTSTAT) to the standing invitations, per unit; a district office sees its units",
                ))
                .parameter(id_param())
                .response("200", json("the replies", "Replies"))
                .response("404", error_response("no such conference")),
        );
        self.op(
            "/api/v1/conferences/{id}/nominations",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("delegates")
                .operation_id(Some("conference_nominations"))
                .summary(Some(
                    "Per invited unit: its quota, the delegates it named, how many are missing and its bridge points; a district office sees its units",
                ))
                .parameter(id_param())
                .parameter(query_param(
                    "district",
                    "only the units in this unit's area (its subtree and the units located there)",
                    Type::Integer,
                ))
                .parameter(query_param(
                    "status",
                    "not_nominated, partial, complete or over",
                    Type::String,
                ))
                .response("200", json("the nominations", "Nominations"))
                .response("404", error_response("no such conference"))
                .response("422", error_response("an unknown parameter or value")),
        );
        self.op(
            "/api/v1/conferences/{id}/auto-assign",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("bridge-points")
                .operation_id(Some("auto_assign"))
                .summary(Some(
                    "Place every unit the bridge-point rules invite at a bridge point (own commune first, then the point serving its commune, then the nearest by the administrative tree), within capacities, keeping assignments made; a preview unless `apply`",
                ))
                .parameter(id_param())
                .request_body(Some(json_body("AutoAssign")))
                .response("200", json("what was or would be done", "Assignment"))
                .response("403", error_response("not the organiser's staff"))
                .response("404", error_response("no such conference")),
        );
        self.op(
            "/api/v1/conferences/{id}/attendance",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("bridge-points")
                .operation_id(Some("conference_attendance"))
                .summary(Some(
                    "Per bridge point and per district: units expected, units placed and nominating, delegates and their replies; a district office sees its area",
                ))
                .parameter(id_param())
                .response("200", json("the figures", "Figures"))
                .response("404", error_response("no such conference")),
        );
        self.op(
            "/api/v1/conferences/{id}/attendance.xlsx",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("bridge-points")
                .operation_id(Some("conference_attendance_xlsx"))
                .summary(Some(
                    "The same figures as an XLSX workbook: a sheet per bridge point, a sheet per district",
                ))
                .parameter(id_param())
                .response("200", response("the workbook", None))
                .response("404", error_response("no such conference")),
        );
        let format = || {
            ParameterBuilder::new()
                .name("format")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("csv (UTF-8 with a byte-order mark) or xlsx"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        self.op(
            "/api/v1/conferences/{id}/delegates/import",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("delegates")
                .operation_id(Some("import_delegates"))
                .summary(Some(
                    "Import delegates from a CSV or XLSX list (họ và tên, chức vụ, đơn vị, email, điện thoại, điểm cầu); every problem names row and column; nothing is imported while any row has one, unless `valid_rows_only=true`",
                ))
                .parameter(id_param())
                .parameter(query_param(
                    "valid_rows_only",
                    "import the valid rows and list the others (default false)",
                    Type::Boolean,
                ))
                .request_body(Some(file_body()))
                .response("200", json("what was imported", "ImportReport"))
                .response("422", error_response("rows with problems, each with its row and column"))
                .response("404", error_response("no such conference")),
        );
        self.op(
            "/api/v1/plans/{id}/cascade",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("plans")
                .operation_id(Some("cascade_plan"))
                .summary(Some(
                    "A district's (or commune's) plan carrying out plan {id}: it cites the parent (Căn cứ Kế hoạch số …), inherits its conferences' times, halls and rules, and takes over their bridge points in the issuer's area that no plan places yet; absent fields follow from the parent and the issuer",
                ))
                .parameter(id_param())
                .request_body(Some(json_body("CascadeInput")))
                .response("201", json("the plan, its conferences and the bridge points it took over", "Cascaded"))
                .response("403", error_response("an issuer outside the caller's area"))
                .response("422", error_response("invalid fields"))
                .response("404", error_response("no such plan")),
        );
        self.op(
            "/api/v1/conferences/{id}/bridge-points/import",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("bridge-points")
                .operation_id(Some("import_bridge_points"))
                .summary(Some(
                    "Import bridge points with their attending units from CSV or XLSX: a district plan's table (no, bridge_point, host_kind, communes, extra_units, as_written) or this API's export; units and communes found by name; a point is matched by its id, else by host and name; importing the same file again changes nothing",
                ))
                .parameter(id_param())
                .parameter(query_param(
                    "valid_rows_only",
                    "import the valid rows and list the others (default false)",
                    Type::Boolean,
                ))
                .parameter(query_param(
                    "plan_id",
                    "the (district) plan the imported points belong to",
                    Type::Integer,
                ))
                .parameter(query_param(
                    "coordinating_unit_id",
                    "coordinating unit of new points where the file names none (default: a district office's own unit, else the education office of the host's district)",
                    Type::Integer,
                ))
                .request_body(Some(file_body()))
                .response("200", json("what was imported", "PointImportReport"))
                .response("403", error_response("a plan or points outside the caller's area"))
                .response("422", error_response("rows with problems, each with its row and column"))
                .response("404", error_response("no such conference")),
        );
        for (path, id, summary) in [
            (
                "/api/v1/conferences/{id}/bridge-points.{format}",
                "export_bridge_points",
                "The bridge-point table: host, coordinator, room, address, capacity, attending units, technical contact; a district office exports its own points",
            ),
            (
                "/api/v1/conferences/{id}/delegates.{format}",
                "export_delegates",
                "The delegates bridge point by bridge point: họ và tên, chức vụ, đơn vị, email, điện thoại, điểm cầu, reply; a district office exports its own units",
            ),
        ] {
            self.op(
                path,
                HttpMethod::Get,
                OperationBuilder::new()
                    .tag("bridge-points")
                    .operation_id(Some(id))
                    .summary(Some(summary))
                    .parameter(id_param())
                    .parameter(format())
                    .response("200", response("the file", None))
                    .response("404", error_response("no such conference or format")),
            );
        }
        let token = |what: &str| {
            ParameterBuilder::new()
                .name("token")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(what))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let public = || SecurityRequirement::default();
        self.op(
            "/rsvp/{token}",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("rsvp_page"))
                .summary(Some(
                    "Public: the reply page of an invitation (HTML); `?reply=accepted|declined|tentative` proposes a choice, records nothing",
                ))
                .security(public())
                .parameter(token("the secret of the invitation's reply links"))
                .response("200", response("the page", None))
                .response("404", error_response("no such link")),
        );
        self.op(
            "/rsvp/{token}",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("rsvp_record"))
                .summary(Some(
                    "Public: records the reply (form field `reply`: accepted, declined or tentative)",
                ))
                .security(public())
                .parameter(token("the secret of the invitation's reply links"))
                .response("200", response("the page, with the reply recorded", None))
                .response("404", error_response("no such link"))
                .response("409", error_response("the invitation was cancelled"))
                .response("422", error_response("no such reply")),
        );
        self.op(
            "/ical/{token}.ics",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("calendar_feed"))
                .summary(Some(
                    "Public: a calendar feed (text/calendar, METHOD:PUBLISH) to subscribe to",
                ))
                .security(public())
                .parameter(token("the feed's secret, from its creation"))
                .response("200", response("the calendar", None))
                .response("404", error_response("no such feed, or revoked")),
        );
        self.op(
            "/api/v1/feeds",
            HttpMethod::Get,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("list_feeds"))
                .summary(Some("Calendar feeds (all for staff, their own for district offices), without their URL"))
                .response("200", response("the feeds", None)),
        );
        self.op(
            "/api/v1/feeds",
            HttpMethod::Post,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("create_feed"))
                .summary(Some(
                    "A calendar feed of a person (their conferences), a unit or a conference; its URL is shown once",
                ))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content("application/json", json_content(reference("NewFeed")))
                        .build(),
                ))
                .response("201", json("the feed, with its URL", "Feed"))
                .response("404", error_response("no such person, unit or conference"))
                .response("422", error_response("an unknown scope")),
        );
        self.op(
            "/api/v1/feeds/{id}",
            HttpMethod::Delete,
            OperationBuilder::new()
                .tag("invitations")
                .operation_id(Some("revoke_feed"))
                .summary(Some("Revokes a feed: its URL answers 404 from then on"))
                .parameter(id_param())
                .response("204", response("revoked", None))
                .response("404", error_response("no such feed")),
        );
    }

    fn resource<R: Resource>(&mut self) {
        self.schema::<R::Input>();
        self.schema::<R::Output>();
        let input = R::Input::name().to_string();
        let output = R::Output::name().to_string();
        let tag = R::PATH;
        let collection = format!("/api/v1/{}", R::PATH);
        let item = format!("/api/v1/{}/{{id}}", R::PATH);
        let page = ObjectBuilder::new()
            .property("items", ArrayBuilder::new().items(reference(&output)))
            .required("items")
            .property("total", ObjectBuilder::new().schema_type(Type::Integer))
            .required("total")
            .property("page", ObjectBuilder::new().schema_type(Type::Integer))
            .property("per_page", ObjectBuilder::new().schema_type(Type::Integer))
            .property(
                "next_after",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("when the page is full: `after` for the next page")),
            );
        let mut list = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(format!("list_{}", R::NAME)))
            .summary(Some(format!("List {} (paged)", R::NAME)))
            .parameter(query_param(
                "page",
                "page number, from 1 (offset paging; not with `after`)",
                Type::Integer,
            ))
            .parameter(query_param(
                "after",
                "keyset paging: the `next_after` of the previous page; every page costs the same",
                Type::Integer,
            ))
            .parameter(query_param(
                "per_page",
                &format!("page size, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE})"),
                Type::Integer,
            ));
        for f in R::FILTERS {
            list = list.parameter(query_param(f.name, f.description, Type::String));
        }
        list = list
            .response("200", response("a page", Some(page.into())))
            .response("401", error_response("no valid credentials"))
            .response("422", error_response("an unknown or invalid parameter"));
        self.op(&collection, HttpMethod::Get, list);
        let body = RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content("application/json", json_content(reference(&input)))
            .build();
        self.op(
            &collection,
            HttpMethod::Post,
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(format!("create_{}", R::NAME)))
                .request_body(Some(body.clone()))
                .response("201", response("created", Some(reference(&output).into())))
                .response("403", error_response("outside the user's scope"))
                .response("409", error_response("duplicate"))
                .response("422", error_response("invalid input; the field is named")),
        );
        self.op(
            &item,
            HttpMethod::Get,
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(format!("get_{}", R::NAME)))
                .parameter(id_param())
                .response("200", response("found", Some(reference(&output).into())))
                .response("404", error_response("no such record")),
        );
        self.op(
            &item,
            HttpMethod::Put,
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(format!("update_{}", R::NAME)))
                .parameter(id_param())
                .request_body(Some(body))
                .response("200", response("replaced", Some(reference(&output).into())))
                .response("403", error_response("outside the user's scope"))
                .response("404", error_response("no such record"))
                .response("409", error_response("duplicate"))
                .response("422", error_response("invalid input; the field is named")),
        );
        self.op(
            &item,
            HttpMethod::Delete,
            OperationBuilder::new()
                .tag(tag)
                .operation_id(Some(format!("delete_{}", R::NAME)))
                .parameter(id_param())
                .response("204", response("deleted", None))
                .response("404", error_response("no such record"))
                .response("409", error_response("still referenced")),
        );
    }
}

/// The OpenAPI document of the whole API.
pub fn document() -> OpenApi {
    let mut doc = Doc {
        paths: PathsBuilder::new(),
        components: ComponentsBuilder::new(),
    };
    macro_rules! add {
        ($r:ty) => {
            doc.resource::<$r>();
        };
    }
    for_each_resource!(add);
    doc.schema::<ErrorBody>();
    doc.schema::<LoginInput>();
    doc.schema::<Me>();
    doc.schema::<TokenInput>();
    doc.schema::<TokenOutput>();
    doc.schema::<ConferenceDetail>();
    doc.schema::<Report>();
    doc.schema::<AgendaChange>();
    doc.schema::<MoveItem>();
    doc.schema::<InsertItem>();
    doc.schema::<Reschedule>();
    doc.schema::<Publish>();
    doc.schema::<crate::services::invitations::Preview>();
    doc.schema::<crate::services::invitations::Sent>();
    doc.schema::<crate::http::invitations::OutboxReport>();
    doc.schema::<crate::http::invitations::Retried>();
    doc.schema::<crate::services::replies::Replies>();
    doc.schema::<crate::services::nominations::Nominations>();
    doc.schema::<crate::services::assignment::AutoAssign>();
    doc.schema::<crate::services::assignment::Assignment>();
    doc.schema::<crate::services::attendance::Figures>();
    doc.schema::<crate::services::import::ImportReport>();
    doc.schema::<crate::services::import::PointImportReport>();
    doc.schema::<crate::services::cascade::CascadeInput>();
    doc.schema::<crate::services::cascade::Cascaded>();
    doc.schema::<crate::services::feeds::NewFeed>();
    doc.schema::<crate::services::feeds::Feed>();
    let body = |name: &str| {
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content("application/json", json_content(reference(name)))
            .build()
    };
    doc.op(
        "/api/v1/auth/login",
        HttpMethod::Post,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("login"))
            .summary(Some("Sign in; sets the hoinghi_session cookie"))
            .request_body(Some(body("LoginInput")))
            .response("200", response("signed in", Some(reference("Me").into())))
            .response("401", error_response("wrong login or password"))
            .security(SecurityRequirement::default()),
    );
    doc.op(
        "/api/v1/auth/logout",
        HttpMethod::Post,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("logout"))
            .response("204", response("signed out", None)),
    );
    doc.op(
        "/api/v1/auth/me",
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("me"))
            .response(
                "200",
                response("the signed-in user", Some(reference("Me").into())),
            ),
    );
    doc.op(
        "/api/v1/tokens",
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("list_tokens"))
            .response("200", response("the caller's tokens", None)),
    );
    doc.op(
        "/api/v1/tokens",
        HttpMethod::Post,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("create_token"))
            .request_body(Some(body("TokenInput")))
            .response(
                "201",
                response(
                    "the token, with its secret shown once",
                    Some(reference("TokenOutput").into()),
                ),
            ),
    );
    doc.op(
        "/api/v1/tokens/{id}",
        HttpMethod::Delete,
        OperationBuilder::new()
            .tag("auth")
            .operation_id(Some("revoke_token"))
            .parameter(id_param())
            .response("204", response("revoked", None))
            .response("404", error_response("no such token of yours")),
    );
    doc.op(
        "/api/v1/conferences/{id}/detail",
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("conferences")
            .operation_id(Some("conference_detail"))
            .summary(Some(
                "A conference with its agenda, speakers, halls, bridge points and rules",
            ))
            .parameter(id_param())
            .response(
                "200",
                response("the conference", Some(reference("ConferenceDetail").into())),
            )
            .response("404", error_response("no such conference")),
    );
    doc.checks();
    doc.documents();
    doc.invitations();
    let components = doc
        .components
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("hoinghi")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Hội nghị tập huấn: kế hoạch, chương trình, điểm cầu, đại biểu.",
                )),
        )
        .paths(doc.paths)
        .components(Some(components))
        .security(Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]))
        .build()
}

/// `GET /api/v1/openapi.json` (public, like any API description).
pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}
