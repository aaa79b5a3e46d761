// Requests the Worker makes to its own router (the MCP tools' REST calls): marked here, where no
// client can reach, so that the rate limiter counts the /mcp request that made them and not each
// of them again.
const internal = new WeakSet<Request>();

export function markInternal(request: Request): Request {
  internal.add(request);
  return request;
}

export const isInternal = (request: Request): boolean => internal.has(request);
