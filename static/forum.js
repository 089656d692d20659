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

  // What changed without a reload, read out by screen readers: a polite live region, made
  // on the first announcement and filled a moment later, so that it is heard.
  var live = null;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 100);
  }

  // The account menu closes with Escape (back to its button), a click elsewhere, or the focus
  // moving out of it, as a menu does.
  document.querySelectorAll("details.menu").forEach(function (menu) {
    var summary = menu.querySelector("summary");
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) { menu.open = false; summary.focus(); }
    });
    menu.addEventListener("focusout", function (e) {
      if (menu.open && e.relatedTarget && !menu.contains(e.relatedTarget)) { menu.open = false; }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) { menu.open = false; }
    });
  });

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
      announce((res.data.liked ? "Liked. " : "Like taken back. ") + res.data.like_count +
               (res.data.like_count === 1 ? " like." : " likes."));
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
  // counts, pressed states and the live region update without a reload. Without
  // SubmitEvent.submitter the clicked button is unknown, so the form goes as a plain post.
  document.addEventListener("submit", function (e) {
    var form = e.target, button = e.submitter;
    if (!form.classList.contains("vote-form") || !csrf || !button) { return; }
    e.preventDefault();
    var body = new FormData(form);
    body.set(button.name, button.value);
    // Only a failed request falls back to the plain post: after a vote that was counted it
    // would press the button a second time, and pressing your vote again takes it back.
    post(form.action, body).then(function (res) {
      if (res.ok) { showVote(form, res.data.amendment); } else { showRefusal(form, res.data.errors); }
    }, function () { submitPlainly(form, button); });
  });

  function showVote(form, item) {
    form.querySelector(".up-count").textContent = "+" + item.up;
    form.querySelector(".down-count").textContent = "-" + item.down;
    var split = form.querySelector(".split");
    var total = item.up + item.down;
    split.max = total || 1;
    split.value = item.up;
    split.setAttribute("aria-label", (total ? Math.round(item.up * 100 / total) : 0) + "% up");
    var net = form.querySelector(".net-score");
    // As the template prints them: "%+d" and "%.3f".
    if (net) { net.textContent = "net " + (item.net < 0 ? "" : "+") + item.net + " \u00b7 score " + item.score.toFixed(3); }
    form.querySelectorAll("button[name=value]").forEach(function (b) {
      var on = Number(b.value) === item.my_vote;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("is-on", on);
    });
    var mine = form.querySelector(".my-vote");
    if (mine) { mine.textContent = item.my_vote ? "You voted " + (item.my_vote > 0 ? "up" : "down") : ""; }
    var rank = form.closest(".item").querySelector(".rank");
    if (rank && item.rank) { rank.textContent = "Rank " + item.rank; }
    refreshRanks(form, item.kind);
    setStatus(form, false,
      (item.my_vote ? "Your vote: " + (item.my_vote > 0 ? "up" : "down") + ". " : "Vote withdrawn. ") +
      "Now +" + item.up + " / -" + item.down + (item.rank ? ", rank " + item.rank : "") + ".");
  }

  // A refusal (window closed, too many votes...) is shown, not only announced.
  function showRefusal(form, errors) {
    setStatus(form, true, (errors || ["Vote refused."])[0]);
  }

  // The status is a live region already in the page, so screen readers announce every change;
  // it is visually hidden except while it holds a refusal.
  function setStatus(form, refused, text) {
    var status = form.querySelector(".vote-status");
    status.textContent = text;
    status.classList.toggle("visually-hidden", !refused);
    status.classList.toggle("vote-refused", refused);
  }

  // form.submit() sends no button, so the clicked one's value rides in a hidden input; the form
  // data is gathered as submit() is called, so the input can go at once.
  function submitPlainly(form, button) {
    var input = document.createElement("input");
    input.type = "hidden"; input.name = button.name; input.value = button.value;
    form.appendChild(input);
    form.submit();
    input.remove();
  }

  // A vote moves the other items of its kind too: renumber every rank shown in the panel.
  function refreshRanks(form, kind) {
    var list = form.closest("[data-ranks]");
    if (!list) { return; }
    fetch(list.getAttribute("data-ranks") + "?sort=top&kind=" + encodeURIComponent(kind), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : { amendments: [] }; }).then(function (data) {
      data.amendments.forEach(function (a) {
        var rank = document.querySelector("#item-" + a.id + " .rank");
        if (rank && a.rank) { rank.textContent = "Rank " + a.rank; }
      });
    }).catch(function () {});
  }

  // The amendment form's kind: its labels, and what is required, follow the choice at once
  // (without JavaScript the server says the same when the form is sent). A box still holding
  // the paragraph's own text is emptied for a question, and filled again for an amendment.
  // A choice made before this script ran (a slow link) or restored by the browser on going
  // back is followed as soon as it runs.
  document.querySelectorAll("form.amend-kind-form").forEach(function (form) {
    var text = form.querySelector("#text");
    var rationale = form.querySelector("#rationale");
    function follow(kind) {
      var heading = document.querySelector("h1[data-amendment]");
      var was = heading ? heading.textContent : "";
      document.querySelectorAll("[data-amendment][data-clarification]").forEach(function (el) {
        el.textContent = el.getAttribute("data-" + kind);
      });
      if (heading) { document.title = document.title.replace(was, heading.textContent); }
      rationale.required = kind === "amendment";
      if (kind === "clarification" && text.value === text.defaultValue) {
        text.value = "";
      } else if (kind === "amendment" && !text.value.trim()) {
        text.value = text.defaultValue;
      }
    }
    form.addEventListener("change", function (e) {
      if (e.target.name === "kind") { follow(e.target.value); }
    });
    var chosen = form.querySelector("input[name=kind]:checked");
    if (chosen && !chosen.defaultChecked) { follow(chosen.value); }
  });

  // Reply, Quote and the floating Reply button lead to the composer: put the cursor in it, so
  // that a phone opens its keyboard. The floating button steps aside while the composer shows.
  // On a page just loaded, after the browser's own jump to #composer, which takes the focus
  // back to the page.
  function focusComposer() {
    var area = location.hash === "#composer" && document.querySelector("#composer textarea");
    if (area) { area.focus({ preventScroll: true }); }
    return Boolean(area);
  }
  // A refused form: the first field marked invalid (its message is read with it), else the
  // summary of what to fix.
  function focusRefusal() {
    var field = document.querySelector('main [aria-invalid="true"]:not([role])') ||
      document.querySelector("main .form-errors[role=alert]");
    if (!field) { return; }
    if (!field.matches("input, textarea, select")) { field.setAttribute("tabindex", "-1"); }
    field.focus();
  }
  function focusOnArrival() {
    setTimeout(function () {
      // Not once the reader has moved on: typing in the search box, say.
      var at = document.activeElement;
      if (at && at !== document.body && at.id !== "main") { return; }
      focusComposer() || focusRefusal();
    }, 0);
  }
  if (document.readyState === "complete") { focusOnArrival(); }
  else { window.addEventListener("load", focusOnArrival); }
  window.addEventListener("hashchange", focusComposer);
  document.addEventListener("click", function (e) {
    var link = e.target.closest('a[href$="#composer"]');
    if (link && link.pathname === location.pathname && link.search === location.search) {
      setTimeout(focusComposer, 0);
    }
  });
  var sticky = document.querySelector(".sticky-reply");
  var composer = document.getElementById("composer");
  if (sticky && composer && "IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      sticky.hidden = entries[0].isIntersecting;
    }).observe(composer);
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
      }, 700);
    });
  });
})();
