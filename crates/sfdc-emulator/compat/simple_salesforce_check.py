"""Drives the emulator with simple-salesforce (Python), unchanged, over HTTPS.

Usage (see README.md in this folder):
    sfdc-emulator --tls --cert-out /tmp/emu.pem > /tmp/emu.json &
    REQUESTS_CA_BUNDLE=/tmp/emu.pem python3 simple_salesforce_check.py /tmp/emu.json
"""
import json
import sys

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

info = json.loads(open(sys.argv[1]).readline())
sf = Salesforce(instance_url=info["instance_url"], session_id=info["access_token"], version="62.0")

created = sf.Lead.create({"LastName": "O'Brien", "Company": "Acme", "Email": "ob@example.com"})
assert created["success"], created
lead = sf.Lead.get(created["id"])
assert lead["LastName"] == "O'Brien" and lead["CreatedDate"].endswith("+0000"), lead
assert sf.Lead.update(created["id"], {"FirstName": "Pat"}) == 204
found = sf.query("SELECT Id, LastName FROM Lead WHERE LastName = 'O\\'Brien'")
assert found["totalSize"] == 1, found
for i in range(450):
    sf.Account.create({"Name": f"A{i}"})
everything = sf.query_all("SELECT Id FROM Account")
assert everything["totalSize"] == 450 and len(everything["records"]) == 450
try:
    sf.query("SELECT Id FROM Lead WHERE LastName = 'a' AND Email = 'b' OR Company = 'c'")
    raise AssertionError("mixed AND/OR must be rejected")
except SalesforceMalformedRequest as e:
    assert e.content[0]["errorCode"] == "MALFORMED_QUERY"
try:
    sf.Lead.get("00QEm0000000999")
    raise AssertionError("unknown id must be 404")
except SalesforceResourceNotFound as e:
    assert e.content[0]["errorCode"] == "NOT_FOUND"
assert any(f["name"] == "Email" for f in sf.Lead.describe()["fields"])
assert sf.api_usage["api-usage"].total == 15000
assert sf.Lead.delete(created["id"]) == 204
report = sf.bulk2.Account.insert(records=[{"Name": "B1"}, {"Name": "B2"}, {"Name": ""}])
assert report[0]["numberRecordsProcessed"] == 3 and report[0]["numberRecordsFailed"] == 1, report
# Composite: a create and a dependent create referencing it, in one API call; allOrNone rolls
# both back when the second fails.
result = sf.restful("composite", method="POST", json={
    "allOrNone": True,
    "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acc",
         "body": {"Name": "Composite"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Ref", "AccountId": "@{acc.id}"}},
    ],
})
acc, con = result["compositeResponse"]
assert (acc["httpStatusCode"], con["httpStatusCode"]) == (201, 201), result
assert sf.Contact.get(con["body"]["id"])["AccountId"] == acc["body"]["id"]
failed = sf.restful("composite", method="POST", json={
    "allOrNone": True,
    "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "ok",
         "body": {"Name": "Rolled back"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Lead", "referenceId": "bad",
         "body": {"LastName": "NoCompany"}},
    ],
})["compositeResponse"]
assert failed[0]["body"][0]["errorCode"] == "PROCESSING_HALTED", failed
assert failed[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING", failed
assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled back'")["totalSize"] == 0
print("simple-salesforce: all checks passed")
