// mamori console: live alert feed over Server-Sent Events. Text is inserted with textContent only, never as HTML.
"use strict";
(function () {
  const feed = document.getElementById("live-feed");
  if (!feed || !window.EventSource) return;
  const source = new EventSource(feed.dataset.stream);
  source.addEventListener("alert", function (message) {
    let alert;
    try { alert = JSON.parse(message.data); } catch (e) { return; }
    if (alert.change !== "created" && alert.change !== "repeat") return;
    const item = document.createElement("li");
    item.className = "fresh sev-row-" + String(alert.severity);
    const link = document.createElement("a");
    link.href = "/alerts/" + encodeURIComponent(String(alert.id));
    const sev = document.createElement("span");
    sev.className = "sev sev-" + String(alert.severity).replace(/[^a-z]/g, "");
    sev.textContent = String(alert.severity);
    const org = document.createElement("b");
    org.textContent = " " + String(alert.org) + " ";
    link.append(sev, org, document.createTextNode(String(alert.title)));
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = " ×" + String(alert.count);
    item.append(link, count);
    const empty = feed.querySelector(".empty");
    if (empty) empty.remove();
    feed.prepend(item);
    while (feed.children.length > 50) feed.lastElementChild.remove();
  });
})();

// Alert list: "select all on this page" ticks or clears every row's checkbox for the bulk actions.
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  const rows = function () { return document.querySelectorAll("#bulk-form input.select-row"); };
  all.addEventListener("change", function () {
    rows().forEach(function (box) { box.checked = all.checked; });
  });
  document.querySelectorAll("#bulk-form input.select-row").forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = Array.prototype.every.call(rows(), function (b) { return b.checked; });
    });
  });
})();
// People pickers: an input with data-search refills its datalist from the user search as one types, so a
// roster manager finds anyone eligible by name (the page itself only lists the first few).
(function () {
  document.querySelectorAll("input[data-search][list]").forEach(function (input) {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list || !window.fetch) return;
    let timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const url = input.dataset.search + "?limit=20&q=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (people) {
            list.replaceChildren();
            people.forEach(function (p) {
              const option = document.createElement("option");
              option.value = String(p.username);
              option.textContent = String(p.display_name) + " (" + p.orgs.map(String).join(", ") + ")";
              list.append(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  });
})();
