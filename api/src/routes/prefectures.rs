//! `GET /api/v1/prefectures`: the 47 prefectures for 【請求先都道府県選択】.

use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use reissue_shared::dto::Prefecture;
use reissue_shared::PrefectureCode;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_prefectures);
}

/// The 47 prefectures (JIS X 0401 order).
#[utoipa::path(
    tag = "applicant",
    responses((status = 200, description = "The 47 prefectures", body = [Prefecture]))
)]
#[get("/prefectures")]
pub async fn list_prefectures() -> HttpResponse {
    let all: Vec<Prefecture> = PrefectureCode::all().map(Prefecture::from).collect();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .json(web::Json(all).0)
}
