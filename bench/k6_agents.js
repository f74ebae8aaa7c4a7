// k6 peer for bench/k6_memory.py: N VUs shaped like mcpload's agents in bench/agents_memory.py.
// Each VU opens its own MCP session (initialize + notifications/initialized), then loops: one
// tools/call echo, then sleeps 5–10 s (the idle gap of an agent between reasoning chains).
// ramping-vus: up to VUS over RAMP, held for HOLD.
import http from 'k6/http';
import { sleep } from 'k6';

const URL = __ENV.MCP_URL || 'http://127.0.0.1:8000/mcp';
const VUS = parseInt(__ENV.VUS || '1000');
const RAMP = __ENV.RAMP || '20s';
const HOLD = __ENV.HOLD || '60s';

export const options = {
  scenarios: {
    agents: {
      executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '0s',
      stages: [{ duration: RAMP, target: VUS }, { duration: HOLD, target: VUS }],
    },
  },
  summaryTrendStats: ['med', 'p(99)'],
};

const BASE = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
let headers = null;
let nextId = 0;

function open() {
  const init = {
    jsonrpc: '2.0', id: ++nextId, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'k6-agents', version: '1' } },
  };
  const res = http.post(URL, JSON.stringify(init), { headers: BASE });
  const msg = JSON.parse(res.body);
  headers = Object.assign({}, BASE, {
    'Mcp-Session-Id': res.headers['Mcp-Session-Id'],
    'MCP-Protocol-Version': msg.result.protocolVersion,
  });
  http.post(URL, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), { headers });
}

export default function () {
  if (headers === null) open();
  const body = { jsonrpc: '2.0', id: ++nextId, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } };
  http.post(URL, JSON.stringify(body), { headers });
  sleep(5 + 5 * Math.random());
}
