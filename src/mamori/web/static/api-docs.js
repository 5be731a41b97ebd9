// mamori API reference: starts Swagger UI (loaded from /vendor/swagger-ui, no CDN) on the OpenAPI document.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  const csrf = root.dataset.csrf || "";
  window.mamoriApiDocs = window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // never send the document to an outside validator
    requestInterceptor: function (request) {
      // "Try it out" with the console session: unsafe methods need the session's CSRF token.
      if (csrf && !/^(GET|HEAD|OPTIONS)$/i.test(request.method || "GET")) request.headers["X-CSRF-Token"] = csrf;
      return request;
    },
  });
});
