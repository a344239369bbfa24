// The API reference's start, served at /api/docs/init.js: the page has no inline script (the
// Content-Security-Policy admits none). Swagger UI (swagger-ui-bundle.js, loaded before this
// file) shows the service's own OpenAPI document.
//   validatorUrl: null       no validity badge, which Swagger UI would fetch from
//                            validator.swagger.io: the page loads nothing from another origin
//                            (closed networks such as the LGWAN reach none).
//   queryConfigEnabled: false  a link with ?url=… or ?configUrl=… cannot make the page show
//                            another document.
"use strict";
SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  queryConfigEnabled: false,
});
