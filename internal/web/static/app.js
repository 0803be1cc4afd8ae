// hookpoint's web UI: a little script over pages that work without it. It shows times
// in the browser's time zone, keeps live lists current, and previews a hook as its
// form changes. No framework, no build step.
"use strict";

(function () {
  const pad = (n) => String(n).padStart(2, "0");

  function localTime(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function localInput(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // Times: <time datetime="...Z"> shows the browser's local time, UTC in its title.
  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = localTime(d);
    });
    root.querySelectorAll("input[data-utc]").forEach((el) => {
      const d = new Date(el.dataset.utc);
      if (!isNaN(d)) el.value = localInput(d);
    });
  }

  function zoneName() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
    } catch (e) {
      return "your time zone";
    }
  }

  // Forms with times written in the local zone send its offset (for the time written,
  // so that summer time is right) in their tz field.
  function tzForms() {
    document.querySelectorAll("form[data-tz-form]").forEach((form) => {
      form.addEventListener("submit", () => {
        const tz = form.querySelector("input[name=tz]");
        if (!tz) return;
        let when = new Date();
        form.querySelectorAll("input[type=datetime-local], input[name=since], input[name=until]").forEach((el) => {
          if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(el.value)) {
            const d = new Date(el.value.replace(" ", "T"));
            if (!isNaN(d)) when = d;
          }
        });
        tz.value = String(when.getTimezoneOffset());
      });
    });
  }

  const interval = Number((document.querySelector("meta[name=poll-interval]") || {}).content) || 2000;

  // Live regions: data-live="URL" is fetched again every few seconds and replaced
  // when it changed; rows never seen before are marked new.
  function live(el) {
    const every = Number(el.dataset.every) || interval;
    let last = el.innerHTML;
    const seen = new Set([...el.querySelectorAll("[data-id]")].map((r) => r.dataset.id));
    let busy = false;
    async function tick() {
      if (busy || document.hidden) return;
      // Do not pull a control from under someone using it.
      const a = document.activeElement;
      if (a && a !== document.body && el.contains(a) && a.matches("input, select, textarea, button")) return;
      busy = true;
      try {
        const res = await fetch(el.dataset.live, {
          headers: { "X-Hookpoint-Fragment": "1" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (res.status === 401) {
          location.reload();
          return;
        }
        if (!res.ok) return;
        const html = await res.text();
        if (html === last) return;
        last = html;
        el.innerHTML = html;
        localize(el);
        el.querySelectorAll("[data-id]").forEach((r) => {
          if (!seen.has(r.dataset.id)) {
            seen.add(r.dataset.id);
            r.classList.add("new");
          }
        });
      } catch (e) {
        // The server is restarting or the network is down: try again next time.
      } finally {
        busy = false;
      }
    }
    setInterval(tick, every);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) tick();
    });
  }

  // The hook form: only the chosen action's fields, and a preview that follows the
  // fields as they change.
  function hookForm(form) {
    const sections = form.querySelectorAll("[data-section]");
    function show() {
      const checked = form.querySelector("input[name=action]:checked");
      const action = checked ? checked.value : "http";
      sections.forEach((s) => {
        s.hidden = s.dataset.section !== action;
      });
    }
    form.querySelectorAll("input[name=action]").forEach((r) => r.addEventListener("change", show));
    show();

    const out = document.getElementById("preview");
    const csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
    let timer = null;
    let seq = 0;
    async function preview() {
      const n = ++seq;
      const body = new URLSearchParams(new FormData(form));
      body.set("do", "preview");
      try {
        const res = await fetch(form.dataset.preview, {
          method: "POST",
          body,
          headers: { "X-CSRF-Token": csrf, "X-Hookpoint-Fragment": "1" },
          credentials: "same-origin",
        });
        const html = await res.text();
        if (n !== seq) return; // a newer preview is on its way
        if (res.ok) out.innerHTML = html;
      } catch (e) {
        // Keep the last preview.
      }
    }
    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(preview, 400);
    });
    form.addEventListener("change", () => {
      clearTimeout(timer);
      timer = setTimeout(preview, 150);
    });
    const errors = document.getElementById("form-errors");
    if (errors) errors.focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.classList.add("js");
    localize(document);
    document.querySelectorAll("[data-tz]").forEach((el) => {
      el.textContent = zoneName();
    });
    tzForms();
    document.querySelectorAll("[data-live]").forEach(live);
    const form = document.getElementById("hook-form");
    if (form) hookForm(form);
  });
})();
