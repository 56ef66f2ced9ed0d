// starts Swagger UI on /docs. a file rather than an inline script, which the app's
// Content-Security-Policy (script-src 'self') would block; the bundle is vendored
// (static/vendor/swagger-ui), so nothing is fetched from elsewhere.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // the default would show a badge image from the public validator service
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
