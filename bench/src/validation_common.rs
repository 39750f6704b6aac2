//! What the `validation` benchmark and the `validation_count` example share: the compiled
//! order model, the three pipelines and the generated documents. Included with `#[path]`.

#![allow(dead_code, unreachable_pub)]

use serde::Deserialize;
use serde_json::{Value, json};

#[allow(clippy::all, dead_code, unreachable_pub)]
pub mod compiled {
    include!(concat!(env!("OUT_DIR"), "/order.rs"));
}

pub const SCHEMA: &str = include_str!("../schemas/order.json");

/// jsonschema's compile-time validator for the same schema file.
#[jsonschema::validator(
    path = "schemas/order.json",
    draft = Draft4,
    methods = { is_valid = true, validate = false, iter_errors = false }
)]
pub struct OrderMacro;

pub use compiled::models::Order;
pub use tollgate::__codegen::schema::{Checked, TypedCheck};

/// tollgate's request path (`Exchange::validated_body`): deserialise the bytes straight into the
/// generated model type and check its keywords on the typed fields, in one pass; only when that
/// cannot decide (serde refuses the text, or a number is beyond 2^53) parse a `Value`, run the
/// exact compiled validator and deserialise from the tree.
pub fn tollgate_pipeline(bytes: &[u8]) -> Option<Order> {
    if let Ok(order) = serde_json::from_slice::<Order>(bytes) {
        match order.check() {
            Checked::Valid => return Some(order),
            Checked::Invalid => return None,
            Checked::Unsure => {}
        }
    }
    tollgate_exact_pipeline(bytes)
}

/// The exact path alone: parse, validate with the compiled validator, deserialise from the
/// parsed `Value` (no second parse).
pub fn tollgate_exact_pipeline(bytes: &[u8]) -> Option<Order> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    if !compiled::order(&value) {
        return None;
    }
    Order::deserialize(&value).ok()
}

pub fn jsonschema_pipeline(validator: &jsonschema::Validator, bytes: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => validator.is_valid(&value),
        Err(_) => false,
    }
}

pub fn jsonschema_macro_pipeline(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => OrderMacro::is_valid(&value),
        Err(_) => false,
    }
}

const TAGS: [&str; 6] = [
    "category-electronics",
    "sale",
    "warehouse-east-3",
    "gift-wrap",
    "fragile",
    "new-arrival",
];

const PRODUCTS: [&str; 5] = [
    "USB-C charging cable, 2 m",
    "Stainless steel water bottle",
    "Wireless ergonomic mouse",
    "Notebook, A5 dotted",
    "Noise-cancelling headphones",
];

/// Line item `i`; with `optional`, also its optional `name` and `tags`.
fn item(i: usize, optional: bool) -> Value {
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    let sku = format!(
        "{}{}{}-{:04}",
        letter(i),
        letter(i / 26),
        letter(i / 676),
        i % 10_000
    );
    let cents = 100 + (i * 7919) % 99_900;
    let mut item = json!({
        "sku": sku,
        "quantity": 1 + (i * 7) % 1000,
        "price": cents as f64 / 100.0,
    });
    if optional {
        let tags: Vec<&str> = (0..1 + i % 3)
            .map(|k| TAGS[(i + 2 * k) % TAGS.len()])
            .collect();
        item["name"] = json!(format!("{} #{i}", PRODUCTS[i % PRODUCTS.len()]));
        item["tags"] = json!(tags);
    }
    item
}

/// An order with `n` items; `invalid` breaks the `sku` pattern of the last item. A one-item
/// order (the small document) has only the required properties; larger ones have the optional
/// ones too.
fn document(n: usize, invalid: bool) -> Vec<u8> {
    let optional = n > 1;
    let mut items: Vec<Value> = (0..n).map(|i| item(i, optional)).collect();
    if invalid {
        items.last_mut().expect("at least one item")["sku"] = json!("abc-12345");
    }
    let mut order = json!({
        "orderId": "ORD-004217",
        "customer": { "id": "cus_8f2k", "email": "ada@example.com" },
        "items": items,
        "status": "paid",
        "shipping": {
            "line1": "12 Analytical Row",
            "city": "London",
            "postalCode": "NW1 6XE",
            "country": "GB"
        }
    });
    if optional {
        order["customer"]["name"] = json!("Ada Lovelace");
        order["notes"] = json!("Leave the parcel with the concierge if nobody answers.");
    }
    serde_json::to_vec(&order).expect("serialize")
}

pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub valid: bool,
}

pub fn cases() -> Vec<Case> {
    let sizes = [
        ("small", 1, 150..=300),
        ("medium", 40, 4_000..=6_500),
        ("large", 4_000, 400_000..=650_000),
    ];
    let mut out = Vec::new();
    for (size, n, range) in sizes {
        for valid in [true, false] {
            let bytes = document(n, !valid);
            assert!(
                range.contains(&bytes.len()),
                "{size} document is {} B, outside {range:?}",
                bytes.len()
            );
            let name = format!("{size}_{}", if valid { "valid" } else { "invalid" });
            out.push(Case { name, bytes, valid });
        }
    }
    out
}
