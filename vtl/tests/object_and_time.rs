//! `Object` past its small-map size (the hash index must agree with the scan), and `$context.requestTime`'s format.

use tollgate_vtl::{Object, Value};

#[test]
fn large_objects_keep_order_last_value_and_lookup() {
    let mut o = Object::new();
    for i in 0..20 {
        o.insert(format!("k{i}").as_str(), Value::Int(i));
    }
    assert!(matches!(
        o.insert("k3", Value::Int(33)),
        Some(Value::Int(3))
    ));
    assert_eq!(o.len(), 20);
    assert_eq!(o.keys().nth(3).map(|k| &**k), Some("k3"));
    assert!(matches!(o.get("k3"), Some(Value::Int(33))));
    assert!(matches!(o.get("k19"), Some(Value::Int(19))));
    assert!(o.get("k20").is_none());
    assert!(matches!(o.remove("k0"), Some(Value::Int(0))));
    assert!(matches!(o.get("k1"), Some(Value::Int(1))));
    assert_eq!(o.keys().next().map(|k| &**k), Some("k1"));
    for i in 1..15 {
        o.remove(&format!("k{i}"));
    }
    assert_eq!(o.len(), 5);
    assert!(matches!(o.get("k17"), Some(Value::Int(17))));
    let v =
        Value::from_json_str(r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10}"#)
            .unwrap();
    assert_eq!(
        v.to_java_string(),
        "{a=10, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9}"
    );
}

#[test]
fn clf_time_formats_api_gateway_request_times() {
    use tollgate_vtl::env::clf_time;
    assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
    assert_eq!(clf_time(1_763_736_000_000), "21/Nov/2025:14:40:00 +0000");
    assert_eq!(clf_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    assert_eq!(clf_time(-1000), "31/Dec/1969:23:59:59 +0000");
}
