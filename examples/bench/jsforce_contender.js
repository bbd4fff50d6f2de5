// The contender of `destination-bench --contender`: the Lead upsert-by-Email workload written with
// jsforce 3.x the way a skilled developer would — batched `IN` lookups, sObject Collections writes
// of 200 records, up to 10 calls in flight. With CONCURRENT_BATCHES > 1, that many batches are
// processed at once (the calls of all of them still share the 10 in flight); it keeps no order
// between batches, which this workload (every e-mail once) does not need.
//
// Usage (destination-bench runs it; by hand:)
//   npm install --prefix /tmp/jsf jsforce@3
//   NODE_PATH=/tmp/jsf/node_modules node examples/bench/jsforce_contender.js \
//     INSTANCE_URL ACCESS_TOKEN EVENTS BATCH [CONCURRENT_BATCHES]
// Prints one JSON line: events, seconds, failed, client CPU and peak RSS.
const jsforce = require('jsforce');

const [instanceUrl, accessToken, eventsArg, batchArg, concurrentArg] = process.argv.slice(2);
const EVENTS = Number(eventsArg || 5000);
const BATCH = Number(batchArg || 1000);
const CONCURRENT_BATCHES = Number(concurrentArg || 1);
const IN_FLIGHT = 10;
// A GET's URI must stay under Salesforce's 16,384 bytes (URI plus headers): keep 2 KB spare.
const MAX_QUERY_URI = 14 * 1024;

// The same events as destination-bench's `event(i)`: identify with e-mail, names and company.
function event(i) {
  return {
    type: 'identify', userId: `user-${i}`,
    traits: { email: `user${i}@example.com`, last_name: `Last${i}`, first_name: 'Bench', company: 'Acme' },
  };
}

// Runs the thunks with at most `limit` promises pending; results in input order.
async function pool(thunks, limit) {
  const results = new Array(thunks.length);
  let next = 0;
  async function worker() {
    while (next < thunks.length) {
      const i = next++;
      results[i] = await thunks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, thunks.length) }, worker));
  return results;
}

// At most IN_FLIGHT calls pending across every batch in progress.
let calls = 0;
const waiting = [];
async function limited(thunk) {
  while (calls >= IN_FLIGHT) await new Promise((resolve) => waiting.push(resolve));
  calls += 1;
  try {
    return await thunk();
  } finally {
    calls -= 1;
    const next = waiting.shift();
    if (next) next();
  }
}

function quote(value) {
  return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

// Splits the e-mails into `IN` queries whose encoded URI fits the limit.
function lookupQueries(emails) {
  const prefix = 'SELECT Id, Email FROM Lead WHERE Email IN (';
  const base = `/services/data/v62.0/query?q=${encodeURIComponent(`${prefix})`)}`.length;
  const queries = [];
  let current = [];
  let length = base;
  for (const email of emails) {
    const add = encodeURIComponent(`${current.length ? ',' : ''}${quote(email)}`).length;
    if (current.length && length + add > MAX_QUERY_URI) {
      queries.push(`${prefix}${current.join(',')})`);
      current = [];
      length = base;
    }
    current.push(quote(email));
    length += add;
  }
  if (current.length) queries.push(`${prefix}${current.join(',')})`);
  return queries;
}

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function sendBatch(conn, batch) {
  const records = batch.map((e) => ({
    Email: e.traits.email, LastName: e.traits.last_name, FirstName: e.traits.first_name, Company: e.traits.company,
  }));
  const emails = [...new Set(records.map((r) => r.Email.toLowerCase()))];
  const pages = await Promise.all(lookupQueries(emails).map((soql) => limited(() => conn.query(soql))));
  const found = new Map();
  for (const page of pages) for (const r of page.records) found.set(r.Email.toLowerCase(), r.Id);
  const updates = [];
  const creates = [];
  for (const r of records) {
    const id = found.get(r.Email.toLowerCase());
    if (id) updates.push({ Id: id, ...r }); else creates.push(r);
  }
  const lead = conn.sobject('Lead');
  const writes = [
    ...chunks(updates, 200).map((c) => () => lead.update(c, { allOrNone: false })),
    ...chunks(creates, 200).map((c) => () => lead.create(c, { allOrNone: false })),
  ];
  const results = await Promise.all(writes.map(limited));
  return results.flat().filter((r) => !r.success).length;
}

(async () => {
  const conn = new jsforce.Connection({ instanceUrl, accessToken, version: '62.0' });
  const events = Array.from({ length: EVENTS }, (_, i) => event(i));
  const started = process.hrtime.bigint();
  const perBatch = await pool(chunks(events, BATCH).map((batch) => () => sendBatch(conn, batch)), CONCURRENT_BATCHES);
  const failed = perBatch.reduce((a, b) => a + b, 0);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = process.resourceUsage();
  console.log(JSON.stringify({
    events: EVENTS, seconds, failed,
    cpu_ms: (usage.userCPUTime + usage.systemCPUTime) / 1000, peak_rss_kib: usage.maxRSS,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
