// The API docs page: Swagger UI on the service's own OpenAPI document.
window.addEventListener("load", function () {
  "use strict";
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
