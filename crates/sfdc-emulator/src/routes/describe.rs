//! Describe output details: the per-field description and the object-level keys a
//! current org's describe carries, with the documented defaults for what the emulator does
//! not model (formulas, dependent picklists, help text, masks).

use serde_json::{Map, Value, json};

use crate::store::{FieldDef, FieldType as T};

/// Field-describe keys the emulator does not model, with their documented defaults
/// (`DescribeFieldResult` in the REST/SOAP references).
const FIELD_DEFAULTS: [(&str, Value); 21] = [
    ("aiPredictionField", Value::Bool(false)),
    ("calculatedFormula", Value::Null),
    ("cascadeDelete", Value::Bool(false)),
    ("compoundFieldName", Value::Null),
    ("controllerName", Value::Null),
    ("defaultValueFormula", Value::Null),
    ("dependentPicklist", Value::Bool(false)),
    ("displayLocationInDecimal", Value::Bool(false)),
    ("extraTypeInfo", Value::Null),
    ("filteredLookupInfo", Value::Null),
    ("formulaTreatNullNumberAsZero", Value::Bool(false)),
    ("highScaleNumber", Value::Bool(false)),
    ("inlineHelpText", Value::Null),
    ("mask", Value::Null),
    ("maskType", Value::Null),
    ("polymorphicForeignKey", Value::Bool(false)),
    ("queryByDistance", Value::Bool(false)),
    ("referenceTargetField", Value::Null),
    ("relationshipOrder", Value::Null),
    ("restrictedDelete", Value::Bool(false)),
    ("searchPrefilterable", Value::Bool(false)),
];

fn add_field_defaults(m: &mut Map<String, Value>) {
    for (k, v) in FIELD_DEFAULTS {
        m.entry(k).or_insert(v);
    }
    m.entry("writeRequiresMasterRead")
        .or_insert(Value::Bool(false));
    // Keys in alphabetical order, as Salesforce lists them.
    m.sort_keys();
}

/// Object-describe keys beyond the describe-global summary (`null`: not set for the object).
pub(crate) fn add_object_keys(m: &mut Map<String, Value>) {
    for k in ["listviewable", "lookupLayoutable", "searchLayoutable"] {
        m.entry(k).or_insert(Value::Null);
    }
}

/// One field's describe.
pub(crate) fn field(f: &FieldDef) -> Value {
    let ft = f.field_type;
    let len = if ft.is_text() || matches!(ft, T::Id | T::Reference) {
        f.max_length()
    } else {
        0
    };
    let (precision, scale, digits) = match ft {
        T::Currency => (18, 2, 0),
        T::Double => (18, 0, 0),
        T::Percent => (3, 0, 0),
        T::Int => (0, 0, 9),
        _ => (0, 0, 0),
    };
    let is_ref = ft == T::Reference;
    let mut v = json!({
        "aggregatable": f.filterable() && ft != T::Boolean,
        "autoNumber": f.name == "CaseNumber",
        // Ids are ASCII: 18 bytes; text is up to 3 bytes per character.
        "byteLength": if matches!(ft, T::Id | T::Reference) { len } else { len * 3 },
        "calculated": f.name == "Name" && f.system,
        "caseSensitive": false,
        "createable": f.createable(),
        "custom": f.name.ends_with("__c"),
        "defaultValue": f.default_on_create.clone().unwrap_or(Value::Null),
        "defaultedOnCreate": f.default_on_create.is_some() || f.system,
        "deprecatedAndHidden": false,
        "digits": digits,
        "encrypted": false,
        "externalId": f.external_id,
        "filterable": f.filterable(),
        "groupable": f.filterable() && !matches!(ft, T::Double | T::Currency | T::Percent | T::Datetime),
        "htmlFormatted": false,
        "idLookup": f.id_lookup(),
        "label": f.label_text(),
        "length": len,
        "name": f.name,
        "nameField": f.name == "Name",
        "namePointing": false,
        "nillable": f.nillable(),
        "permissionable": !f.system && !f.required,
        "picklistValues": [],
        "precision": precision,
        "referenceTo": if is_ref { json!(f.reference_to) } else { json!([]) },
        "relationshipName": if is_ref { json!(f.relationship_name()) } else { Value::Null },
        "restrictedPicklist": false,
        "scale": scale,
        "soapType": ft.soap_type(),
        "sortable": f.filterable(),
        "type": ft.as_str(),
        "unique": f.unique,
        "updateable": f.updateable(),
    });
    if let Some(m) = v.as_object_mut() {
        add_field_defaults(m);
    }
    v
}
