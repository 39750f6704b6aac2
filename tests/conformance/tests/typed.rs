//! Differential test of the one-pass typed path (deserialise into the model type, check its
//! fields) against the exact compiled validator, over mutated documents of realistic schemas
//! (`schemas/`). Whenever the typed path decides, it must agree with the exact validator.

use serde_json::{Value, json};
use tollgate::__codegen::schema::Checked;

fn valid_order() -> Value {
    json!({
        "orderId": "ORD-123456",
        "customer": {"id": 7, "email": "ann@example.com", "name": "Ann"},
        "items": [
            {"sku": "ABC-1234", "quantity": 2, "price": 19.99, "tags": ["red", "xl"]},
            {"sku": "XYZ-0001", "quantity": 999, "price": 0.01}
        ],
        "status": "paid",
        "gift": false,
        "weight": 12.5
    })
}

/// Replacement values that probe type, range, null, size and unicode edges.
fn candidates(rng: &mut fastrand::Rng) -> Value {
    let pool = [
        json!(null),
        json!(true),
        json!(0),
        json!(1),
        json!(-1),
        json!(999),
        json!(1000),
        json!(1001),
        json!(1.0),
        json!(0.015),
        json!(0.02),
        json!(19.99),
        json!(100),
        json!(100.000001),
        json!(9007199254740993u64),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e300),
        json!(""),
        json!("x"),
        json!("ORD-12345"),
        json!("ORD-123456"),
        json!("ABC-1234"),
        json!("abc-1234"),
        json!("ann@example.com"),
        json!("no at"),
        json!("ünïcødé-ñame-that-is-long"),
        json!("new"),
        json!("lost"),
        json!([]),
        json!(["a", "a"]),
        json!(["a", "b"]),
        json!([""]),
        json!({}),
        json!({"id": 1}),
        json!([{"sku": "ABC-1234", "quantity": 1, "price": 1}]),
    ];
    pool[rng.usize(..pool.len())].clone()
}

fn mutate(v: &mut Value, rng: &mut fastrand::Rng, depth: usize) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.usize(..keys.len())];
            match rng.u8(..10) {
                0 => {
                    map.remove(key);
                }
                1 => {
                    map.insert(format!("extra{}", rng.u8(..3)), candidates(rng));
                }
                2..=4 => {
                    map.insert(key.clone(), candidates(rng));
                }
                _ if depth < 4 => mutate(map.get_mut(key).expect("key"), rng, depth + 1),
                _ => {}
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.usize(..items.len());
            match rng.u8(..6) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.push(copy);
                }
                _ => mutate(&mut items[i], rng, depth + 1),
            }
        }
        other => *other = candidates(rng),
    }
}

#[test]
fn the_typed_path_agrees_with_the_exact_validator() {
    let (_, exact, typed) = tollgate_conformance::own::OWN
        .iter()
        .find(|(name, _, _)| *name == "order")
        .expect("schemas/order.json is compiled");
    assert!(exact(&valid_order()));
    assert_eq!(typed(&valid_order().to_string()), Some(Checked::Valid));

    let mut rng = fastrand::Rng::with_seed(0x70_11_6a_7e);
    let (mut decided, mut valid, mut invalid, mut fast_valid) = (0, 0, 0, 0);
    for round in 0..20_000 {
        let mut doc = valid_order();
        for _ in 0..rng.usize(1..4) {
            mutate(&mut doc, &mut rng, 0);
        }
        let mut text = doc.to_string();
        if round % 50 == 0 {
            // A duplicate key: serde's structs refuse it, the exact validator keeps the last.
            text = text.replacen("{\"customer\"", "{\"status\":\"lost\",\"customer\"", 1);
        }
        let truth = serde_json::from_str::<Value>(&text)
            .map(|v| exact(&v))
            .unwrap_or(false);
        if truth {
            valid += 1
        } else {
            invalid += 1
        }
        match typed(&text) {
            Some(Checked::Valid) => {
                decided += 1;
                fast_valid += 1;
                assert!(
                    truth,
                    "typed path accepted a document the schema refuses:\n{text}"
                );
            }
            Some(Checked::Invalid) => {
                decided += 1;
                assert!(
                    !truth,
                    "typed path refused a document the schema accepts:\n{text}"
                );
            }
            Some(Checked::Unsure) | None => {
                // Valid documents may only leave the one-pass path by design: a duplicate key
                // (serde's structs refuse it) or a number too large for f64 to be exact.
                if truth {
                    let duplicate = text.contains(r#""status":"lost","customer""#);
                    let huge = text
                        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
                        .any(|n| n.trim_start_matches('-').len() >= 16)
                        || text.contains("e+");
                    assert!(
                        duplicate || huge,
                        "a valid document missed the one-pass path: {text}"
                    );
                }
            }
        }
    }
    println!(
        "typed path decided {decided} of 20000 mutated documents ({valid} valid, {invalid} invalid), never wrongly; \
         {fast_valid} of the {valid} valid ones took the one-pass path"
    );
    assert!(
        fast_valid > 500,
        "the one-pass path should serve most valid documents"
    );
}
