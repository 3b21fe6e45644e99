//! The CRUD handlers of the document domains (bots, resources, workspace, finance), written
//! once. A domain states each route's OpenAPI annotation, how its path is extracted and which
//! `Spec` serves it; the body is the same `crud` call everywhere:
//!
//! ```ignore
//! document_handler!(
//!     #[utoipa::path(get, path = "/api/v1/workspace/{kind}/{id}", ...)]
//!     get get_item [Path((kind, id)): Path<(String, String)>] spec(&kind)?, id
//! );
//! ```
//!
//! A macro rather than generic functions: each route keeps its own name (its OpenAPI operation
//! id), path and annotation, which `utoipa` reads from a concrete function.

macro_rules! document_handler {
    // The shape every handler shares. `$state` and `$me` are named by the arm that writes the
    // body, so that the body's uses and these bindings are the same identifiers.
    (@fn $state:ident $me:ident $(#[$m:meta])* $name:ident [$($at:tt)*] -> $answer:ty { $($body:tt)* }) => {
        $(#[$m])*
        async fn $name(
            ::axum::extract::State($state): ::axum::extract::State<$crate::state::AppState>,
            $crate::auth::Authed($me, ..): $crate::auth::Authed,
            $($at)*
        ) -> $crate::error::ApiResult<$answer> {
            $($body)*
        }
    };
    ($(#[$m:meta])* list $name:ident [$($at:tt)*] $spec:expr) => {
        $crate::documents::handlers::document_handler!(@fn state me $(#[$m])* $name
            [$($at)* $crate::http::extract::Query(params): $crate::http::extract::Query<::std::collections::HashMap<String, String>>]
            -> $crate::documents::crud::Page { $crate::documents::crud::list(&state, &me, $spec, params).await });
    };
    ($(#[$m:meta])* create $name:ident [$($at:tt)*] $spec:expr) => {
        $crate::documents::handlers::document_handler!(@fn state me $(#[$m])* $name
            [$($at)* $crate::http::extract::Json(body): $crate::http::extract::Json<::serde_json::Value>]
            -> $crate::http::respond::Created<$crate::documents::Document>
            { Ok($crate::http::respond::created($crate::documents::crud::create(&state, &me, $spec, body).await?)) });
    };
    ($(#[$m:meta])* get $name:ident [$($at:tt)*] $spec:expr, $id:expr) => {
        $crate::documents::handlers::document_handler!(@fn state me $(#[$m])* $name [$($at)*]
            -> $crate::http::respond::Ok<$crate::documents::Document>
            { Ok($crate::http::respond::ok($crate::documents::crud::get(&state, &me, $spec, &$id).await?)) });
    };
    ($(#[$m:meta])* patch $name:ident [$($at:tt)*] $spec:expr, $id:expr) => {
        $crate::documents::handlers::document_handler!(@fn state me $(#[$m])* $name
            [$($at)* $crate::http::extract::Json(body): $crate::http::extract::Json<::serde_json::Value>]
            -> $crate::http::respond::Ok<$crate::documents::Document>
            { Ok($crate::http::respond::ok($crate::documents::crud::patch(&state, &me, $spec, &$id, body).await?)) });
    };
    ($(#[$m:meta])* delete $name:ident [$($at:tt)*] $spec:expr, $id:expr) => {
        $crate::documents::handlers::document_handler!(@fn state me $(#[$m])* $name [$($at)*]
            -> $crate::http::respond::Ok<$crate::documents::crud::Deleted>
            { Ok($crate::http::respond::ok($crate::documents::crud::delete(&state, &me, $spec, &$id).await?)) });
    };
}

pub(crate) use document_handler;
