// GET /openapi.json: the OpenAPI document, public like /health (the /docs page loads it).
import { jsonText } from "../http/json.ts";
import { openApiJson } from "../openapi.ts";

export function openApi(): Response {
  return jsonText(openApiJson(), { headers: { "Cache-Control": "public, max-age=300" } });
}
