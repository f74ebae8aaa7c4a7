// k6 peer for bench/peers.py: a raw-HTTP MCP client (Streamable HTTP, handshake era).
// Each VU opens its own MCP session (initialize + notifications/initialized, Mcp-Session-Id),
// then calls tools/call echo in a loop; the shared-iterations executor stops after CALLS calls.
import http from 'k6/http';

const URL = __ENV.MCP_URL || 'http://127.0.0.1:8000/mcp';
const VUS = parseInt(__ENV.VUS || '20');
const CALLS = parseInt(__ENV.CALLS || '20000');

export const options = {
  discardResponseBodies: false,
  scenarios: {
    echo: { executor: 'shared-iterations', vus: VUS, iterations: CALLS, maxDuration: '10m' },
  },
  summaryTrendStats: ['med', 'p(99)'],
};

const BASE = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
let headers = null;
let nextId = 0;

function parse(res) {
  const ct = res.headers['Content-Type'] || '';
  if (ct.indexOf('text/event-stream') >= 0) {
    for (const line of res.body.split('\n')) {
      if (line.startsWith('data:')) {
        const msg = JSON.parse(line.slice(5));
        if (!('method' in msg)) return msg;
      }
    }
    throw new Error('event stream ended without a response');
  }
  return JSON.parse(res.body);
}

function open() {
  const init = {
    jsonrpc: '2.0', id: ++nextId, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'k6-probe', version: '1' } },
  };
  const res = http.post(URL, JSON.stringify(init), { headers: BASE });
  const msg = parse(res);
  headers = Object.assign({}, BASE, {
    'Mcp-Session-Id': res.headers['Mcp-Session-Id'],
    'MCP-Protocol-Version': msg.result.protocolVersion,
  });
  http.post(URL, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { headers });
}

export default function () {
  if (headers === null) open();
  const id = ++nextId;
  const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } };
  const res = http.post(URL, JSON.stringify(body), { headers });
  const msg = parse(res);
  if (msg.id !== id || !msg.result || msg.result.isError) throw new Error('bad response: ' + res.body);
}
