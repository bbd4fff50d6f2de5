//! The org schema: field and object definitions, the standard objects, and the
//! JSON schema-file format for custom objects and fields.

use crate::fasthash::FastMap;

use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;
use crate::soql::{FieldMeta, ObjectFields, ValueKind};

/// A Salesforce field type, spelled on the wire (and in schema files) as describe spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FieldType {
    /// `id`: the record id.
    Id,
    /// `string`: single-line text.
    String,
    /// `textarea`: multi-line text; longer than 255 characters it is a long text area
    /// (not filterable, not sortable).
    Textarea,
    /// `boolean`.
    Boolean,
    /// `int`.
    Int,
    /// `double`.
    Double,
    /// `currency`.
    Currency,
    /// `percent`.
    Percent,
    /// `date`: `YYYY-MM-DD`.
    Date,
    /// `datetime`: stored and returned as `YYYY-MM-DDTHH:MM:SS.sss+0000`.
    Datetime,
    /// `picklist` (unrestricted: any value is accepted).
    Picklist,
    /// `reference`: an id of a record of one of `reference_to`.
    Reference,
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `url`.
    Url,
}

impl FieldType {
    /// The describe `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Boolean => "boolean",
            FieldType::Int => "int",
            FieldType::Double => "double",
            FieldType::Currency => "currency",
            FieldType::Percent => "percent",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Picklist => "picklist",
            FieldType::Reference => "reference",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
        }
    }

    /// The describe `soapType` string.
    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    /// The default `length` for text-like types (0 for the others).
    fn default_length(self) -> u32 {
        match self {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String | FieldType::Textarea | FieldType::Picklist | FieldType::Url => 255,
            FieldType::Email => 80,
            FieldType::Phone => 40,
            _ => 0,
        }
    }

    /// True for types whose values are stored as JSON strings and checked for length.
    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Textarea
                | FieldType::Picklist
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
        )
    }

    /// How SOQL compares values of this type.
    pub(crate) fn value_kind(self) -> ValueKind {
        match self {
            FieldType::Id | FieldType::Reference => ValueKind::Id,
            FieldType::Boolean => ValueKind::Boolean,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
                ValueKind::Number
            }
            FieldType::Date => ValueKind::Date,
            FieldType::Datetime => ValueKind::DateTime,
            _ => ValueKind::Text,
        }
    }
}

/// A field definition: a standard field, or a custom field added through a schema file
/// or [`crate::Emulator::add_field`].
///
/// Schema-file form (camelCase keys; only `name` and `type` are required):
/// `{"name":"ExtId__c","type":"string","length":40,"externalId":true,"unique":true,"required":false,"label":"Ext Id","referenceTo":["Account"]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FieldDef {
    /// API name, e.g. `ExtId__c`.
    pub name: String,
    /// Label; defaults to the name without `__c`, underscores as spaces.
    #[serde(default)]
    pub label: Option<String>,
    /// Field type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Maximum length for text types; a type default when absent.
    #[serde(default)]
    pub length: Option<u32>,
    /// Required on create (`nillable:false`): a create without it fails with `REQUIRED_FIELD_MISSING`.
    #[serde(default)]
    pub required: bool,
    /// An external id: usable for upsert and as an `idLookup`.
    #[serde(default)]
    pub external_id: bool,
    /// Unique: a second record with the same value fails with `DUPLICATE_VALUE`.
    #[serde(default)]
    pub unique: bool,
    /// For `reference` fields: the objects the id may point to.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// System-managed: not createable or updateable through the API.
    #[serde(skip)]
    pub(crate) system: bool,
    /// Value set on create when the field is absent.
    #[serde(skip)]
    pub(crate) default_on_create: Option<serde_json::Value>,
}

impl FieldDef {
    /// A field with the given API name and type and default attributes.
    pub fn new(name: impl Into<String>, field_type: FieldType) -> Self {
        FieldDef {
            name: name.into(),
            label: None,
            field_type,
            length: None,
            required: false,
            external_id: false,
            unique: false,
            reference_to: Vec::new(),
            system: false,
            default_on_create: None,
        }
    }

    /// Sets the maximum length.
    pub fn length(mut self, length: u32) -> Self {
        self.length = Some(length);
        self
    }

    /// Makes the field required on create.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the field as an external id.
    pub fn external_id(mut self) -> Self {
        self.external_id = true;
        self
    }

    /// Marks the field unique.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the referenced objects of a `reference` field.
    pub fn reference_to(mut self, object: impl Into<String>) -> Self {
        self.reference_to.push(object.into());
        self
    }

    fn system(mut self) -> Self {
        self.system = true;
        self
    }

    fn default_value(mut self, v: serde_json::Value) -> Self {
        self.default_on_create = Some(v);
        self
    }

    /// The effective maximum length (type default when unset).
    pub(crate) fn max_length(&self) -> u32 {
        self.length
            .unwrap_or_else(|| self.field_type.default_length())
    }

    /// The label (derived from the name when unset).
    pub(crate) fn label_text(&self) -> String {
        match &self.label {
            Some(l) => l.clone(),
            None => derive_label(&self.name),
        }
    }

    /// Whether the field may be used in SOQL WHERE.
    pub(crate) fn filterable(&self) -> bool {
        !(self.field_type == FieldType::Textarea && self.max_length() > 255)
    }

    /// Whether the field may be written on create.
    pub(crate) fn createable(&self) -> bool {
        !self.system
    }

    /// Whether the field may be written on update.
    pub(crate) fn updateable(&self) -> bool {
        !self.system
    }

    /// Whether the field accepts null.
    pub(crate) fn nillable(&self) -> bool {
        !(self.required
            || self.field_type == FieldType::Boolean
            || self.field_type == FieldType::Id
            || (self.system && self.default_on_create.is_some()))
    }

    /// The relationship name of a reference field: `AccountId` → `Account`,
    /// `Parent__c` → `Parent__r`; `None` for other fields.
    pub(crate) fn relationship_name(&self) -> Option<String> {
        if self.field_type != FieldType::Reference {
            return None;
        }
        if let Some(base) = self.name.strip_suffix("__c") {
            return Some(format!("{base}__r"));
        }
        self.name
            .strip_suffix("Id")
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
    }

    /// Whether describe reports the field as `idLookup`.
    pub(crate) fn id_lookup(&self) -> bool {
        self.field_type == FieldType::Id || self.external_id || self.field_type == FieldType::Email
    }

    fn validate(&self, custom_object: bool) -> Result<(), EmulatorError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || !self.name.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return Err(EmulatorError::Schema(format!(
                "field name '{}' must start with a letter and use only letters, digits and '_'",
                self.name
            )));
        }
        if !custom_object && !self.name.ends_with("__c") {
            return Err(EmulatorError::Schema(format!(
                "custom field '{}' on a standard object must end with '__c'",
                self.name
            )));
        }
        if self.external_id
            && !matches!(
                self.field_type,
                FieldType::String | FieldType::Email | FieldType::Int | FieldType::Double
            )
        {
            return Err(EmulatorError::Schema(format!(
                "external id field '{}' must be string, email, int or double",
                self.name
            )));
        }
        if self.field_type == FieldType::Reference && self.reference_to.is_empty() {
            return Err(EmulatorError::Schema(format!(
                "reference field '{}' needs referenceTo (e.g. [\"Account\"])",
                self.name
            )));
        }
        Ok(())
    }
}

fn derive_label(name: &str) -> String {
    name.trim_end_matches("__c").replace('_', " ")
}

/// An object definition for [`crate::Emulator::add_object`] and schema files.
///
/// Schema-file form: `{"name":"Invoice__c","label":"Invoice","labelPlural":"Invoices",
/// "keyPrefix":"a01","fields":[FieldDef...]}`. Custom object names end with `__c`; the
/// key prefix defaults to the next free `a0X`. The system fields (`Id`, `Name`,
/// `CreatedDate`, `LastModifiedDate`, `SystemModstamp`, `IsDeleted`) are added for you.
/// When `name` is an existing object, its `fields` are added to that object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ObjectDef {
    /// API name, e.g. `Invoice__c`.
    pub name: String,
    /// Label; derived from the name when absent.
    #[serde(default)]
    pub label: Option<String>,
    /// Plural label; label + "s" when absent.
    #[serde(default)]
    pub label_plural: Option<String>,
    /// Three-character id prefix; `a0X` assigned when absent.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Custom fields.
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// An object definition with the given API name and no custom fields.
    pub fn new(name: impl Into<String>) -> Self {
        ObjectDef {
            name: name.into(),
            label: None,
            label_plural: None,
            key_prefix: None,
            fields: Vec::new(),
        }
    }

    /// Adds a field.
    pub fn field(mut self, field: FieldDef) -> Self {
        self.fields.push(field);
        self
    }

    /// Sets the key prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = Some(prefix.into());
        self
    }
}

/// The JSON schema file given to `--schema` or [`crate::EmulatorConfig::schema`]:
/// `{"objects":[ObjectDef...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchemaFile {
    /// Objects to add, or standard objects to extend.
    #[serde(default)]
    pub objects: Vec<ObjectDef>,
}

impl SchemaFile {
    /// Parses a schema file.
    ///
    /// # Errors
    /// [`EmulatorError::Schema`] when the JSON does not match the documented format.
    pub fn from_json(text: &str) -> Result<Self, EmulatorError> {
        serde_json::from_str(text).map_err(|e| EmulatorError::Schema(e.to_string()))
    }
}

/// One object of the org, with a case-insensitive field index.
#[derive(Debug, Clone)]
pub(crate) struct ObjectSchema {
    pub(crate) name: String,
    pub(crate) label: String,
    pub(crate) label_plural: String,
    pub(crate) key_prefix: String,
    pub(crate) custom: bool,
    pub(crate) fields: Vec<FieldDef>,
    /// Each field's name interned (see [`crate::store::Record`]), by field position.
    names: Vec<crate::store::Name>,
    index: FastMap<String, usize>,
}

impl ObjectSchema {
    fn new(name: &str, label: &str, plural: &str, prefix: &str, custom: bool) -> Self {
        let mut o = ObjectSchema {
            name: name.to_owned(),
            label: label.to_owned(),
            label_plural: plural.to_owned(),
            key_prefix: prefix.to_owned(),
            custom,
            fields: Vec::new(),
            names: Vec::new(),
            index: FastMap::default(),
        };
        o.push(
            FieldDef::new("Id", FieldType::Id)
                .label(format!("{label} ID"))
                .system(),
        );
        o.push(
            FieldDef::new("IsDeleted", FieldType::Boolean)
                .label("Deleted")
                .system(),
        );
        o
    }

    /// Adds a field under its name as spelt and lower-cased (a lookup in the canonical
    /// spelling, the common case, then needs no lower-cased copy).
    fn push(&mut self, f: FieldDef) {
        self.index.insert(f.name.clone(), self.fields.len());
        self.index
            .insert(f.name.to_ascii_lowercase(), self.fields.len());
        self.names.push(crate::store::intern(&f.name));
        self.fields.push(f);
    }

    /// The position of field `name` (looked up as [`ObjectSchema::field`] does).
    pub(crate) fn field_position(&self, name: &str) -> Option<usize> {
        match self.index.get(name) {
            Some(&i) => Some(i),
            None => self.index.get(&name.to_ascii_lowercase()).copied(),
        }
    }

    /// The interned name of the field at `position`.
    pub(crate) fn interned_name(&self, position: usize) -> Option<crate::store::Name> {
        self.names.get(position).copied()
    }

    /// The fields with their interned names, in schema order.
    pub(crate) fn named_fields(&self) -> impl Iterator<Item = (crate::store::Name, &FieldDef)> {
        self.names.iter().copied().zip(&self.fields)
    }

    fn push_system_dates(&mut self) {
        self.push(FieldDef::new("CreatedDate", FieldType::Datetime).system());
        self.push(FieldDef::new("LastModifiedDate", FieldType::Datetime).system());
        self.push(FieldDef::new("SystemModstamp", FieldType::Datetime).system());
    }

    /// Looks a field up case-insensitively.
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_position(name).and_then(|i| self.fields.get(i))
    }

    /// Adds a custom field.
    pub(crate) fn add_field(&mut self, f: FieldDef) -> Result<(), EmulatorError> {
        f.validate(self.custom)?;
        if self.field(&f.name).is_some() {
            return Err(EmulatorError::Schema(format!(
                "object '{}' already has a field '{}'",
                self.name, f.name
            )));
        }
        self.push(f);
        Ok(())
    }
}

impl ObjectFields for ObjectSchema {
    fn object_name(&self) -> &str {
        &self.name
    }

    fn resolve(&self, name: &str) -> Option<FieldMeta> {
        self.field(name).map(|f| FieldMeta {
            api_name: f.name.clone(),
            kind: f.field_type.value_kind(),
            filterable: f.filterable(),
            sortable: f.filterable(),
        })
    }
}

/// The schema of all objects, with a case-insensitive object index.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    objects: Vec<ObjectSchema>,
    index: FastMap<String, usize>,
    next_custom_prefix: u32,
}

impl Schema {
    /// The standard objects: Lead, Contact, Account, Case, Opportunity.
    pub(crate) fn standard() -> Self {
        let mut s = Schema {
            objects: Vec::new(),
            index: FastMap::default(),
            next_custom_prefix: 1,
        };
        for o in [account(), contact(), lead(), case(), opportunity()] {
            s.insert(o);
        }
        s
    }

    /// Adds an object under its name as spelt and lower-cased (see [`ObjectSchema::push`]).
    fn insert(&mut self, o: ObjectSchema) {
        self.index.insert(o.name.clone(), self.objects.len());
        self.index
            .insert(o.name.to_ascii_lowercase(), self.objects.len());
        self.objects.push(o);
    }

    /// All objects in definition order.
    pub(crate) fn objects(&self) -> &[ObjectSchema] {
        &self.objects
    }

    /// Looks an object up case-insensitively.
    pub(crate) fn object(&self, name: &str) -> Option<&ObjectSchema> {
        if let Some(&i) = self.index.get(name) {
            return self.objects.get(i);
        }
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|&i| self.objects.get(i))
    }

    fn object_mut(&mut self, name: &str) -> Option<&mut ObjectSchema> {
        let i = *self.index.get(&name.to_ascii_lowercase())?;
        self.objects.get_mut(i)
    }

    /// The object whose ids start with `prefix`.
    pub(crate) fn object_by_prefix(&self, prefix: &str) -> Option<&ObjectSchema> {
        self.objects.iter().find(|o| o.key_prefix == prefix)
    }

    /// Adds a field to an existing object.
    pub(crate) fn add_field(&mut self, object: &str, f: FieldDef) -> Result<(), EmulatorError> {
        let o = self
            .object_mut(object)
            .ok_or_else(|| EmulatorError::UnknownObject(object.to_owned()))?;
        o.add_field(f)
    }

    /// Adds a custom object, or extends an existing one with the definition's fields.
    pub(crate) fn add_object(&mut self, def: ObjectDef) -> Result<(), EmulatorError> {
        if self.object(&def.name).is_some() {
            for f in def.fields {
                self.add_field(&def.name, f)?;
            }
            return Ok(());
        }
        if !def.name.ends_with("__c") {
            return Err(EmulatorError::Schema(format!(
                "custom object name '{}' must end with '__c'",
                def.name
            )));
        }
        let prefix = match def.key_prefix {
            Some(p) => {
                if p.len() != 3 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(EmulatorError::Schema(format!(
                        "key prefix '{p}' must be 3 letters or digits"
                    )));
                }
                if self.object_by_prefix(&p).is_some() {
                    return Err(EmulatorError::Schema(format!(
                        "key prefix '{p}' is already used"
                    )));
                }
                p
            }
            None => self.next_prefix()?,
        };
        let label = def.label.unwrap_or_else(|| derive_label(&def.name));
        let plural = def.label_plural.unwrap_or_else(|| format!("{label}s"));
        let mut o = ObjectSchema::new(&def.name, &label, &plural, &prefix, true);
        o.push(
            FieldDef::new("Name", FieldType::String)
                .length(80)
                .label(format!("{label} Name")),
        );
        o.push_system_dates();
        for f in def.fields {
            o.add_field(f)?;
        }
        self.insert(o);
        Ok(())
    }

    fn next_prefix(&mut self) -> Result<String, EmulatorError> {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        while (self.next_custom_prefix as usize) < DIGITS.len() * DIGITS.len() {
            let n = self.next_custom_prefix as usize;
            self.next_custom_prefix += 1;
            let p = format!(
                "a{}{}",
                DIGITS[n / DIGITS.len()] as char,
                DIGITS[n % DIGITS.len()] as char
            );
            if self.object_by_prefix(&p).is_none() {
                return Ok(p);
            }
        }
        Err(EmulatorError::Schema(
            "no free custom key prefixes left".into(),
        ))
    }
}

fn text(name: &str, len: u32) -> FieldDef {
    FieldDef::new(name, FieldType::String).length(len)
}

fn long_text(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Textarea).length(32000)
}

fn pick(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Picklist).length(255)
}

fn reference(name: &str, to: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Reference).reference_to(to)
}

fn address(o: &mut ObjectSchema, prefix: &str) {
    o.push(FieldDef::new(format!("{prefix}Street"), FieldType::Textarea).length(255));
    o.push(text(&format!("{prefix}City"), 40));
    o.push(text(&format!("{prefix}State"), 80));
    o.push(text(&format!("{prefix}PostalCode"), 20));
    o.push(text(&format!("{prefix}Country"), 80));
}

fn account() -> ObjectSchema {
    let mut o = ObjectSchema::new("Account", "Account", "Accounts", "001", false);
    o.push(text("Name", 255).label("Account Name").required());
    o.push(text("AccountNumber", 40).label("Account Number"));
    o.push(pick("Type").label("Account Type"));
    o.push(pick("Industry"));
    o.push(pick("Rating").label("Account Rating"));
    o.push(FieldDef::new("Phone", FieldType::Phone).label("Account Phone"));
    o.push(FieldDef::new("Fax", FieldType::Phone).label("Account Fax"));
    o.push(FieldDef::new("Website", FieldType::Url));
    o.push(text("Site", 80).label("Account Site"));
    o.push(text("TickerSymbol", 20).label("Ticker Symbol"));
    address(&mut o, "Billing");
    address(&mut o, "Shipping");
    o.push(FieldDef::new("AnnualRevenue", FieldType::Currency).label("Annual Revenue"));
    o.push(FieldDef::new("NumberOfEmployees", FieldType::Int).label("Employees"));
    o.push(reference("ParentId", "Account").label("Parent Account ID"));
    o.push(long_text("Description").label("Account Description"));
    o.push_system_dates();
    o
}

fn contact() -> ObjectSchema {
    let mut o = ObjectSchema::new("Contact", "Contact", "Contacts", "003", false);
    o.push(pick("Salutation"));
    o.push(text("FirstName", 40).label("First Name"));
    o.push(text("LastName", 80).label("Last Name").required());
    o.push(text("Name", 121).label("Full Name").system());
    o.push(reference("AccountId", "Account").label("Account ID"));
    o.push(text("Title", 128));
    o.push(text("Department", 80));
    o.push(FieldDef::new("Email", FieldType::Email));
    o.push(FieldDef::new("Phone", FieldType::Phone).label("Business Phone"));
    o.push(FieldDef::new("MobilePhone", FieldType::Phone).label("Mobile Phone"));
    o.push(FieldDef::new("Birthdate", FieldType::Date));
    o.push(pick("LeadSource").label("Lead Source"));
    o.push(
        FieldDef::new("HasOptedOutOfEmail", FieldType::Boolean)
            .label("Email Opt Out")
            .default_value(serde_json::Value::Bool(false)),
    );
    address(&mut o, "Mailing");
    o.push(long_text("Description").label("Contact Description"));
    o.push_system_dates();
    o
}

fn lead() -> ObjectSchema {
    let mut o = ObjectSchema::new("Lead", "Lead", "Leads", "00Q", false);
    o.push(pick("Salutation"));
    o.push(text("FirstName", 40).label("First Name"));
    o.push(text("LastName", 80).label("Last Name").required());
    o.push(text("Name", 121).label("Full Name").system());
    o.push(text("Title", 128));
    o.push(text("Company", 255).required());
    o.push(FieldDef::new("Email", FieldType::Email));
    o.push(FieldDef::new("Phone", FieldType::Phone));
    o.push(FieldDef::new("MobilePhone", FieldType::Phone).label("Mobile Phone"));
    o.push(FieldDef::new("Website", FieldType::Url));
    address(&mut o, "");
    o.push(
        pick("Status")
            .label("Lead Status")
            .default_value(serde_json::Value::String("Open - Not Contacted".into())),
    );
    o.push(pick("LeadSource").label("Lead Source"));
    o.push(pick("Industry"));
    o.push(pick("Rating"));
    o.push(FieldDef::new("AnnualRevenue", FieldType::Currency).label("Annual Revenue"));
    o.push(FieldDef::new("NumberOfEmployees", FieldType::Int).label("Employees"));
    o.push(
        FieldDef::new("HasOptedOutOfEmail", FieldType::Boolean)
            .label("Email Opt Out")
            .default_value(serde_json::Value::Bool(false)),
    );
    o.push(
        FieldDef::new("IsConverted", FieldType::Boolean)
            .label("Converted")
            .system()
            .default_value(serde_json::Value::Bool(false)),
    );
    o.push(
        reference("ConvertedAccountId", "Account")
            .label("Converted Account ID")
            .system(),
    );
    o.push(
        reference("ConvertedContactId", "Contact")
            .label("Converted Contact ID")
            .system(),
    );
    o.push(
        FieldDef::new("ConvertedDate", FieldType::Date)
            .label("Converted Date")
            .system(),
    );
    o.push(long_text("Description"));
    o.push_system_dates();
    o
}

fn case() -> ObjectSchema {
    let mut o = ObjectSchema::new("Case", "Case", "Cases", "500", false);
    o.push(text("CaseNumber", 30).label("Case Number").system());
    o.push(text("Subject", 255));
    o.push(long_text("Description"));
    o.push(pick("Status").default_value(serde_json::Value::String("New".into())));
    o.push(pick("Origin").label("Case Origin"));
    o.push(pick("Priority").default_value(serde_json::Value::String("Medium".into())));
    o.push(pick("Type").label("Case Type"));
    o.push(pick("Reason").label("Case Reason"));
    o.push(reference("AccountId", "Account").label("Account ID"));
    o.push(reference("ContactId", "Contact").label("Contact ID"));
    o.push(FieldDef::new("SuppliedEmail", FieldType::Email).label("Web Email"));
    o.push(text("SuppliedName", 80).label("Web Name"));
    o.push(text("SuppliedPhone", 40).label("Web Phone"));
    o.push(text("SuppliedCompany", 80).label("Web Company"));
    o.push(
        FieldDef::new("IsEscalated", FieldType::Boolean)
            .label("Escalated")
            .default_value(serde_json::Value::Bool(false)),
    );
    o.push_system_dates();
    o
}

fn opportunity() -> ObjectSchema {
    let mut o = ObjectSchema::new("Opportunity", "Opportunity", "Opportunities", "006", false);
    o.push(text("Name", 120).label("Opportunity Name").required());
    o.push(reference("AccountId", "Account").label("Account ID"));
    o.push(pick("StageName").label("Stage").required());
    o.push(
        FieldDef::new("CloseDate", FieldType::Date)
            .label("Close Date")
            .required(),
    );
    o.push(FieldDef::new("Amount", FieldType::Currency));
    o.push(FieldDef::new("Probability", FieldType::Percent).label("Probability (%)"));
    o.push(pick("Type").label("Opportunity Type"));
    o.push(pick("LeadSource").label("Lead Source"));
    o.push(text("NextStep", 255).label("Next Step"));
    o.push(long_text("Description"));
    o.push_system_dates();
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_case_insensitive() {
        let s = Schema::standard();
        let lead = s.object("lead").unwrap();
        assert_eq!(lead.name, "Lead");
        assert_eq!(lead.field("company").unwrap().name, "Company");
        assert!(!lead.field("Description").unwrap().filterable());
        assert_eq!(s.object_by_prefix("006").unwrap().name, "Opportunity");
    }

    #[test]
    fn custom_objects_get_prefixes_and_system_fields() {
        let mut s = Schema::standard();
        let def: ObjectDef = serde_json::from_str(
            r#"{"name":"Invoice__c","fields":[{"name":"Number__c","type":"string","length":40,"externalId":true,"unique":true}]}"#,
        )
        .unwrap();
        s.add_object(def).unwrap();
        let o = s.object("invoice__c").unwrap();
        assert_eq!(o.key_prefix, "a01");
        assert!(o.field("Number__c").unwrap().external_id);
        assert!(o.field("CreatedDate").is_some());
        assert!(s.add_object(ObjectDef::new("NoSuffix")).is_err());
        assert!(
            s.add_field("Lead", FieldDef::new("Bad", FieldType::String))
                .is_err()
        );
        assert!(
            s.add_field(
                "Lead",
                FieldDef::new("Ext__c", FieldType::Boolean).external_id()
            )
            .is_err()
        );
    }
}
