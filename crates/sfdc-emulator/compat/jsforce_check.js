// Drives the emulator with jsforce (Node.js), unchanged, over plain HTTP.
// Usage (see README.md in this folder):
//   sfdc-emulator > /tmp/emu.json &
//   npm install jsforce@3 && node jsforce_check.js /tmp/emu.json
const assert = require('assert');
const fs = require('fs');
const jsforce = require('jsforce');

const info = JSON.parse(fs.readFileSync(process.argv[2], 'utf8').split('\n')[0]);

(async () => {
  const oauth2 = new jsforce.OAuth2({
    loginUrl: info.instance_url, clientId: info.client_id, clientSecret: info.client_secret,
  });
  // Start with a stale token: jsforce must see 401 INVALID_SESSION_ID and refresh through OAuth.
  const conn = new jsforce.Connection({
    oauth2, instanceUrl: info.instance_url, accessToken: 'stale', refreshToken: info.refresh_token,
    version: '62.0',
  });
  let refreshed = 0;
  conn.on('refresh', () => { refreshed += 1; });

  const one = await conn.sobject('Account').create({ Name: 'Acme' });
  assert.ok(one.success && refreshed === 1);
  const many = await conn.sobject('Account').create([{ Name: 'A' }, { Name: '' }, { Name: 'C' }]);
  assert.deepStrictEqual(many.map((r) => r.success), [true, false, true]);
  assert.strictEqual(many[1].errors[0].statusCode, 'REQUIRED_FIELD_MISSING');
  const q = await conn.query("SELECT Id, Name FROM Account WHERE Name LIKE 'A%' ORDER BY Name");
  assert.deepStrictEqual(q.records.map((r) => r.Name), ['A', 'Acme']);
  assert.strictEqual(conn.limitInfo.apiUsage.limit, 15000);
  const bulk = await conn.bulk2.loadAndWaitForResults({
    object: 'Account', operation: 'insert', input: 'Name\nBulk1\n', pollInterval: 200, pollTimeout: 20000,
  });
  assert.strictEqual(bulk.successfulResults[0].sf__Created, 'true');
  // Composite: a create, a dependent create referencing it, and a query, in one API call.
  // A plain call first: jsforce's bulk2 calls do not update conn.limitInfo.
  await conn.query('SELECT Id FROM Account LIMIT 1');
  const before = conn.limitInfo.apiUsage.used;
  const composite = await conn.request({
    method: 'POST',
    url: '/services/data/v62.0/composite',
    body: JSON.stringify({
      allOrNone: true,
      // The query depends on the creates only implicitly: without this, collation may run it first.
      collateSubrequests: false,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v62.0/sobjects/Account', referenceId: 'acc', body: { Name: 'Composite' } },
        { method: 'POST', url: '/services/data/v62.0/sobjects/Contact', referenceId: 'con',
          body: { LastName: 'Ref', AccountId: '@{acc.id}' } },
        { method: 'GET', url: "/services/data/v62.0/query?q=SELECT+AccountId+FROM+Contact+WHERE+LastName='Ref'",
          referenceId: 'q' },
      ],
    }),
    headers: { 'Content-Type': 'application/json' },
  });
  const [acc, con, cq] = composite.compositeResponse;
  assert.deepStrictEqual([acc.httpStatusCode, con.httpStatusCode, cq.httpStatusCode], [201, 201, 200]);
  assert.strictEqual(cq.body.records[0].AccountId, acc.body.id);
  assert.ok(con.body.success);
  assert.strictEqual(conn.limitInfo.apiUsage.used, before + 1);
  console.log('jsforce: all checks passed');
})().catch((e) => { console.error(e); process.exit(1); });
