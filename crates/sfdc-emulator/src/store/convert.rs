//! Lead conversion (what Salesforce's `convertLead` does, reduced to its record effects): an
//! Account named after the Lead's company and a Contact with the Lead's person fields are
//! created, and the Lead becomes read-only with `IsConverted`, `ConvertedAccountId`,
//! `ConvertedContactId` and `ConvertedDate` set. Updates of a converted Lead then fail with
//! `CANNOT_UPDATE_CONVERTED_LEAD`.

use serde_json::{Map, Value};

use super::{Org, SfError, check_id, is_deleted, now_string};

/// The records a Lead conversion created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeadConversion {
    /// The new Account's 18-character id.
    pub account_id: String,
    /// The new Contact's 18-character id.
    pub contact_id: String,
}

/// The error an update of a converted Lead gets.
pub(crate) fn converted_lead() -> SfError {
    SfError::bad_request(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "cannot reference converted lead",
    )
    .with_fields(Vec::<String>::new())
}

/// Whether a stored record is a converted Lead.
pub(crate) fn is_converted(rec: &super::Record) -> bool {
    matches!(rec.get("IsConverted"), Some(Value::Bool(true)))
}

/// Lead fields copied to the Contact.
const PERSON_FIELDS: [&str; 7] = [
    "Salutation",
    "FirstName",
    "LastName",
    "Title",
    "Email",
    "Phone",
    "MobilePhone",
];

impl Org {
    /// Converts a live, unconverted Lead. All or nothing: a failure leaves the org unchanged.
    ///
    /// Errors: `MALFORMED_ID`, `NOT_FOUND`, `ENTITY_IS_DELETED`, `CANNOT_UPDATE_CONVERTED_LEAD`
    /// (already converted), or whatever creating the Account or Contact fails with.
    pub(crate) fn convert_lead(&mut self, id: &str) -> Result<LeadConversion, SfError> {
        let lead_schema = self.object("Lead").ok_or_else(SfError::not_found)?;
        let id18 = check_id(lead_schema, id)?;
        let lead = self
            .tables
            .get("Lead")
            .and_then(|t| t.get(&id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(lead) {
            return Err(SfError::entity_is_deleted());
        }
        if is_converted(lead) {
            return Err(converted_lead());
        }
        let lead = lead.clone();
        let mut account = Map::new();
        account.insert(
            "Name".into(),
            lead.get("Company").cloned().unwrap_or(Value::Null),
        );
        let mut contact: Map<String, Value> = PERSON_FIELDS
            .iter()
            .filter_map(|f| lead.get(f).map(|v| ((*f).to_owned(), v.clone())))
            .collect();
        self.begin();
        let result = (|| {
            let account_id = self.create("Account", &account)?;
            contact.insert("AccountId".into(), Value::String(account_id.clone()));
            let contact_id = self.create("Contact", &contact)?;
            let mut converted = lead.clone();
            let now = now_string();
            converted.insert("IsConverted", Value::Bool(true));
            converted.insert("ConvertedAccountId", Value::String(account_id.clone()));
            converted.insert("ConvertedContactId", Value::String(contact_id.clone()));
            converted.insert("ConvertedDate", Value::String(now[..10].to_owned()));
            converted.insert("LastModifiedDate", Value::String(now.clone()));
            converted.insert("SystemModstamp", Value::String(now));
            self.set_record("Lead", &id18, Some(converted));
            Ok(LeadConversion {
                account_id,
                contact_id,
            })
        })();
        match &result {
            Ok(_) => self.commit(),
            Err(_) => self.rollback(),
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversion_creates_account_and_contact_and_locks_the_lead() {
        let mut org = Org::new();
        let body = json!({"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines", "Email": "ada@x.io"});
        let lead = org.create("Lead", body.as_object().unwrap()).unwrap();
        let c = org.convert_lead(&lead[..15]).unwrap();
        let (_, acc) = org.find(&c.account_id).unwrap();
        assert_eq!(acc["Name"], json!("Engines"));
        let (_, con) = org.find(&c.contact_id).unwrap();
        assert_eq!(con["LastName"], json!("Lovelace"));
        assert_eq!(con["Email"], json!("ada@x.io"));
        assert_eq!(con["AccountId"], json!(c.account_id));
        let (_, l) = org.find(&lead).unwrap();
        assert_eq!(l["IsConverted"], json!(true));
        assert_eq!(l["ConvertedAccountId"], json!(c.account_id));
        assert_eq!(l["ConvertedContactId"], json!(c.contact_id));
        let update = json!({"Company": "Other"});
        let e = org
            .update("Lead", &lead, update.as_object().unwrap())
            .unwrap_err();
        assert_eq!(e.error_code, "CANNOT_UPDATE_CONVERTED_LEAD");
        assert_eq!(
            org.convert_lead(&lead).unwrap_err().error_code,
            "CANNOT_UPDATE_CONVERTED_LEAD"
        );
        assert_eq!(org.count("Account"), 1);
    }
}
