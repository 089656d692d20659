// Progressive enhancement only: every action here also works as a plain form or link.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      body: body
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    });
  }

  // Confirm destructive buttons.
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { e.preventDefault(); }
  });

  // Likes in place.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList.contains("like-form") || !csrf) { return; }
    e.preventDefault();
    var button = form.querySelector("button");
    post(form.action, new FormData(form)).then(function (res) {
      if (!res.ok) { form.submit(); return; }
      button.setAttribute("aria-pressed", res.data.liked ? "true" : "false");
      button.classList.toggle("is-on", res.data.liked);
      button.querySelector(".like-count").textContent = res.data.like_count;
      var undo = form.querySelector('input[name="undo"]');
      if (res.data.liked && !undo) {
        undo = document.createElement("input");
        undo.type = "hidden"; undo.name = "undo"; undo.value = "1";
        form.appendChild(undo);
      } else if (!res.data.liked && undo) {
        undo.remove();
      }
    }).catch(function () { form.submit(); });
  });

  // Votes on amendments and clarifications in place: the form posts as JSON, and the
  // counts, pressed states and the live region update without a reload.
  document.addEventListener("click", function (e) {
    var button = e.target.closest(".vote-form button[name=value]");
    if (button) { button.form.dataset.clicked = button.value; }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList.contains("vote-form") || !csrf) { return; }
    e.preventDefault();
    var body = new FormData(form);
    body.append("value", form.dataset.clicked || "1");
    post(form.action, body).then(function (res) {
      if (!res.ok) {
        form.querySelector(".vote-status").textContent = (res.data.errors || ["Vote refused."])[0];
        return;
      }
      var item = res.data.amendment;
      form.querySelector(".up-count").textContent = "+" + item.up;
      form.querySelector(".down-count").textContent = "-" + item.down;
      var split = form.querySelector(".split");
      var total = item.up + item.down;
      split.max = total || 1;
      split.value = item.up;
      split.setAttribute("aria-label", (total ? Math.round(item.up * 100 / total) : 0) + "% up");
      form.querySelectorAll("button[name=value]").forEach(function (b) {
        var on = Number(b.value) === item.my_vote;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.classList.toggle("is-on", on);
      });
      var mine = form.querySelector(".my-vote");
      if (mine) { mine.textContent = item.my_vote ? "You voted " + (item.my_vote > 0 ? "up" : "down") : ""; }
      var rank = form.closest(".item").querySelector(".rank");
      if (rank && item.rank) { rank.textContent = "#" + item.rank; }
      refreshRanks(form, item.kind);
      form.querySelector(".vote-status").textContent =
        (item.my_vote ? "Your vote: " + (item.my_vote > 0 ? "up" : "down") + ". " : "Vote withdrawn. ") +
        "Now +" + item.up + " / -" + item.down + (item.rank ? ", rank " + item.rank : "") + ".";
    }).catch(function () { form.submit(); });
  });

  // A vote moves the other items of its kind too: renumber every rank shown in the panel.
  function refreshRanks(form, kind) {
    var list = form.closest("[data-ranks]");
    if (!list) { return; }
    fetch(list.getAttribute("data-ranks") + "?sort=top&kind=" + encodeURIComponent(kind), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : { amendments: [] }; }).then(function (data) {
      data.amendments.forEach(function (a) {
        var rank = document.querySelector("#item-" + a.id + " .rank");
        if (rank && a.rank) { rank.textContent = "#" + a.rank; }
      });
    }).catch(function () {});
  }

  // Live Markdown preview beside any textarea that names a preview box.
  document.querySelectorAll("textarea[data-preview]").forEach(function (area) {
    var box = document.getElementById(area.getAttribute("data-preview"));
    if (!box || !csrf) { return; }
    var timer = null;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var body = new FormData();
        body.append("raw", area.value);
        post("/preview.json", body).then(function (res) {
          if (!res.ok) { return; }
          box.hidden = !area.value.trim();
          box.innerHTML = '<h3 class="preview-label">Preview</h3>' + res.data.cooked;
        });
      }, 350);
    });
  });
})();
