//! The API's one error shape, and extractors whose rejections use it.
//!
//! `{"error": {"code": "stable_snake_case", "message": "for people", "field": "txs[2]" | null}}`
//! with a status that says whose fault it is. Codes are stable; messages may change.

use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_storage::StorageError;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::MAX_BODY_BYTES;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, snake_case code.
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// The request field at fault (a JSON path such as `txs[2]`, or a path or query parameter
    /// name), if one is.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A 500: the node failed, not the request.
    pub fn internal(error: impl fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        )
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The `{"code", "message", "field"}` object.
    pub fn object(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "field": self.field })
    }

    /// The whole body: `{"error": {...}}`.
    pub fn body(&self) -> Value {
        json!({ "error": self.object() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        let mut api = Self::internal(format!("storage: {error}"));
        api.code = "storage_error";
        api
    }
}

/// Unknown routes.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found("not_found", format!("no route for {method} {}", uri.path()))
}

/// Known paths with another method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body whose every failure is an [`ApiError`]: wrong content type and malformed JSON
/// are 400 (`unsupported_content_type`, `malformed_json`), a body of the wrong shape is 400
/// `invalid_body` naming the JSON path, and a body over [`MAX_BODY_BYTES`] is 413
/// `body_too_large`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::bad_request(
                "unsupported_content_type",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                    )
                } else {
                    ApiError::bad_request("unreadable_body", rejection.body_text())
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body, naming the path of a value of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() || inner.is_io() {
            ApiError::bad_request("malformed_json", format!("the body is not JSON: {inner}"))
        } else {
            let error = ApiError::bad_request("invalid_body", inner.to_string());
            if path == "." {
                error
            } else {
                error.with_field(path)
            }
        }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(
            "malformed_json",
            format!("the body is not one JSON value: {error}"),
        )
    })?;
    Ok(value)
}

/// The single path parameter, as text; each handler parses it and names it in its errors.
#[derive(Debug)]
pub struct ApiPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::bad_request("invalid_path", rejection.body_text()))
    }
}

/// The query's parameters in order, repeats kept; each handler checks the names it knows.
#[derive(Debug)]
pub struct ApiQuery(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| ApiQuery(pairs))
            .map_err(|rejection| ApiError::bad_request("invalid_query", rejection.body_text()))
    }
}

impl ApiQuery {
    /// Refuses a parameter not in `known` (400 `unknown_parameter`).
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self
            .0
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            Some((name, _)) => Err(ApiError::bad_request(
                "unknown_parameter",
                format!(
                    "unknown query parameter `{name}`; known: {}",
                    known.join(", ")
                ),
            )
            .with_field(name.clone())),
            None => Ok(()),
        }
    }

    /// The value of a parameter that may appear at most once.
    pub fn single(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_request(
                "repeated_parameter",
                format!("query parameter `{name}` may appear once"),
            )
            .with_field(name));
        }
        Ok(first)
    }

    /// Every value of a parameter, in order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_owned();
        self.0
            .iter()
            .filter(move |(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A parameter that is a `u64`, if present.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.single(name)?
            .map(|text| {
                text.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        format!("`{name}` must be a non-negative integer, not `{text}`"),
                    )
                    .with_field(name)
                })
            })
            .transpose()
    }
}
