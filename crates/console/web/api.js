// The Step Functions API, called the way SDKs call it (AWS JSON 1.0 on POST /), and the
// console's own GET endpoints for what the API has no action for.

export class ApiError extends Error {
  constructor(code, message, status, action) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.action = action;
  }
}

// `__type` may come fully qualified (`com.amazonaws.sfn#Code`): keep the code.
function codeOf(type) {
  if (!type) return '';
  const s = String(type);
  const i = s.lastIndexOf('#');
  return i >= 0 ? s.slice(i + 1) : s;
}

export async function call(action, body = {}) {
  let resp;
  try {
    resp = await fetch('/', {
      method: 'POST',
      headers: {
        'X-Amz-Target': `AWSStepFunctions.${action}`,
        'Content-Type': 'application/x-amz-json-1.0',
      },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError('NetworkError', `Cannot reach the server: ${e.message}`, 0, action);
  }
  const text = await resp.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!resp.ok) {
    const code = codeOf(data.__type || resp.headers.get('x-amzn-errortype')) || `HTTP ${resp.status}`;
    throw new ApiError(code, data.message || data.Message || text, resp.status, action);
  }
  return data;
}

// Follows nextToken up to `limit` items.
export async function listAll(action, body, key, limit = 1000) {
  const items = [];
  let token;
  do {
    const page = await call(action, { ...body, ...(token ? { nextToken: token } : {}) });
    items.push(...(page[key] || []));
    token = page.nextToken;
  } while (token && items.length < limit);
  return items;
}

export async function consoleGet(path, params = {}) {
  const q = new URLSearchParams(params).toString();
  let resp;
  try {
    resp = await fetch(`/console/api/${path}${q ? `?${q}` : ''}`);
  } catch (e) {
    throw new ApiError('NetworkError', `Cannot reach the server: ${e.message}`, 0, path);
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(data.__type || `HTTP ${resp.status}`, data.message, resp.status, path);
  return data;
}

// Live execution updates (server-sent events). `onUpdate({events, execution, done})`; the
// stream closes itself once the execution has ended. Returns a function that stops it.
export function watchExecution(arn, onUpdate, onError) {
  const es = new EventSource(`/console/api/stream?${new URLSearchParams({ arn, after: '0' })}`);
  es.addEventListener('update', (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    onUpdate(msg);
    if (msg.done) es.close();
  });
  es.addEventListener('failure', (m) => {
    es.close();
    let msg = {};
    try { msg = JSON.parse(m.data); } catch { /* keep empty */ }
    onError?.(new ApiError(msg.__type || 'InternalFailure', msg.message, 500, 'stream'));
  });
  es.onerror = () => {
    // EventSource reconnects by itself (resuming from the last id); only report if it gave up.
    if (es.readyState === EventSource.CLOSED) onError?.(new ApiError('NetworkError', 'Live updates stopped', 0, 'stream'));
  };
  return () => es.close();
}
