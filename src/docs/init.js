// The interactive reference for /openapi.json, served with the API from Workers Static Assets:
// no CDN, works offline. "Authorize" takes a bearer token; "Try it out" calls this same origin.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
