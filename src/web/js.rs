//! The few JS built-ins the driver uses, imported here instead of through `js-sys`.
//!
//! `js-sys` carries its futures module into every wasm that links it: the module's
//! `#[no_mangle]` poll export puts a task's waker vtable into the function table, and
//! with it `RefCell`'s borrow-error `Display` and `core::fmt`'s `Formatter::pad`, which
//! `wasm-opt` cannot drop from a table. The package build does without `js-sys`; the Rust
//! API (`std`) still uses it, converting with `unchecked_into` where the types meet.

use alloc::string::String;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A JS function.
    #[wasm_bindgen(is_type_of = JsValue::is_function, typescript_type = "Function")]
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub type Function;

    /// A JS promise.
    #[wasm_bindgen(typescript_type = "Promise<any>")]
    #[derive(Debug, Clone)]
    pub type Promise;

    /// A JS array.
    #[wasm_bindgen(typescript_type = "Array<any>")]
    #[derive(Debug, Clone)]
    pub type Array;

    #[wasm_bindgen(constructor, js_class = "Array")]
    pub fn new() -> Array;
    #[wasm_bindgen(static_method_of = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> bool;
    #[wasm_bindgen(method, getter, structural)]
    pub fn length(this: &Array) -> u32;
    #[wasm_bindgen(method, structural, indexing_getter)]
    pub fn get(this: &Array, index: u32) -> JsValue;
    #[wasm_bindgen(method)]
    pub fn push(this: &Array, value: &JsValue) -> u32;

    /// `Reflect.get`; throws when `target` is not an object.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    pub fn reflect_get(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;
    /// `Reflect.set`; throws when `target` is not an object.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = set)]
    pub fn reflect_set(target: &JsValue, key: &JsValue, value: &JsValue) -> Result<bool, JsValue>;

    #[wasm_bindgen(js_name = encodeURIComponent)]
    pub fn encode_uri_component(s: &str) -> String;
}

impl Array {
    /// The elements of an array-like value, in order (`get` reads `undefined` past
    /// the end, as in JS).
    pub fn iter(&self) -> impl Iterator<Item = JsValue> + '_ {
        (0..self.length()).map(move |i| self.get(i))
    }
}

/// `Reflect.get`, with `undefined` for what is not there or not an object.
pub fn field(target: &JsValue, key: &str) -> JsValue {
    reflect_get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}
