/* Plays Intercom's inbox: builds Canvas Kit requests, renders the canvases Herald returns. */
(function () {
  "use strict";
  // The page's settings travel as JSON data, not as a script: the page allows no inline script.
  var P = JSON.parse(document.getElementById("playground-config").textContent);
  var canvasEl = document.getElementById("canvas");
  var wireEl = document.getElementById("wire");
  var current = null;        // the canvas on screen: {content, stored_data}
  var conversation = null;   // the open conversation
  var busy = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Canvas Kit text supports **bold** and [links](url) only; everything else is literal. */
  function markdown(parent, text) {
    var pattern = /\*\*(.+?)\*\*|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, last = 0, m;
    while ((m = pattern.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.appendChild(el("strong", null, m[1]));
      else { var a = el("a", null, m[2]); a.href = m[3]; a.target = "_blank"; a.rel = "noopener"; parent.appendChild(a); }
      last = pattern.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function labelled(c, field) {
    var wrap = el("label", "field" + (c.save_state === "failed" || c.error ? " failed" : ""));
    if (c.label) wrap.appendChild(el("span", "label", c.label));
    wrap.appendChild(field);
    return wrap;
  }

  function act(id, action) {
    if (!action) return;
    if (action.type === "url") { window.open(action.url, "_blank", "noopener"); return; }
    if (action.type === "submit") submit(id);
  }

  var render = {
    text: function (c) {
      var p = el("p", "text " + (c.style || "paragraph") + " align-" + (c.align || "left"));
      if (c.bottom_margin === "none") p.classList.add("tight");
      markdown(p, c.text); return p;
    },
    button: function (c) {
      var b = el("button", "btn " + (c.style || "primary"), c.label);
      b.type = "button"; b.dataset.id = c.id; b.disabled = !!c.disabled;
      b.addEventListener("click", function () { act(c.id, c.action); });
      return b;
    },
    input: function (c) {
      var row = el("span", "input-row"), input = el("input");
      input.name = c.id; input.value = c.value || ""; input.placeholder = c.placeholder || "";
      input.disabled = !!c.disabled || c.save_state === "saved";
      row.appendChild(input);
      if (c.action) {
        var go = el("button", "inline", "→"); go.type = "button"; go.setAttribute("aria-label", "Submit " + (c.label || c.id));
        go.addEventListener("click", function () { act(c.id, c.action); });
        input.addEventListener("keydown", function (e) { if (e.key === "Enter") act(c.id, c.action); });
        row.appendChild(go);
      }
      return labelled(c, row);
    },
    textarea: function (c) {
      var t = el("textarea"); t.name = c.id; t.value = c.value || ""; t.placeholder = c.placeholder || "";
      t.disabled = !!c.disabled; t.rows = 4; return labelled(c, t);
    },
    "single-select": function (c) {
      var group = el("span", "pills"); group.dataset.select = c.id;
      c.options.forEach(function (o) {
        var pill = el("button", "pill" + (o.id === c.value ? " chosen" : ""), o.text);
        pill.type = "button"; pill.dataset.option = o.id; pill.disabled = !!o.disabled || !!c.disabled;
        pill.addEventListener("click", function () {
          group.querySelectorAll(".pill").forEach(function (p) { p.classList.remove("chosen"); });
          pill.classList.add("chosen"); group.dataset.value = o.id;
          act(c.id, c.action);
        });
        group.appendChild(pill);
      });
      if (c.value) group.dataset.value = c.value;
      return labelled(c, group);
    },
    dropdown: function (c) {
      var s = el("select"); s.name = c.id; s.disabled = !!c.disabled;
      c.options.forEach(function (o) {
        var opt = el("option", null, o.text); opt.value = o.id; opt.disabled = !!o.disabled; s.appendChild(opt);
      });
      if (c.value) s.value = c.value;
      return labelled(c, s);
    },
    checkbox: function (c) {
      var box = el("span", "checks"); box.dataset.checkbox = c.id;
      (c.options || c.option || []).forEach(function (o) {
        var l = el("label"), i = el("input"); i.type = "checkbox"; i.value = o.id;
        i.checked = (c.value || []).indexOf(o.id) >= 0; l.appendChild(i); l.appendChild(document.createTextNode(" " + o.text));
        box.appendChild(l);
      });
      return labelled(c, box);
    },
    list: function (c) {
      var ul = el("ul", "list");
      c.items.forEach(function (item) {
        var li = el("li"), b = el("button", "item"); b.type = "button"; b.dataset.id = item.id;
        b.disabled = !!item.disabled || !!c.disabled;
        b.appendChild(el("span", "title", item.title));
        if (item.subtitle) b.appendChild(el("span", "subtitle", item.subtitle));
        if (item.tertiary_text) b.appendChild(el("span", "tertiary", item.tertiary_text));
        b.addEventListener("click", function () { act(item.id, item.action); });
        li.appendChild(b); ul.appendChild(li);
      });
      return ul;
    },
    "data-table": function (c) {
      var table = el("table", "data-table");
      c.items.forEach(function (row) {
        var tr = el("tr"), td = el("td", null, row.value);
        td.title = row.value; tr.appendChild(el("th", null, row.field)); tr.appendChild(td); table.appendChild(tr);
      });
      return table;
    },
    image: function (c) {
      var img = el("img", "image align-" + (c.align || "left")); img.src = c.url; img.width = c.width; img.height = c.height; img.alt = "";
      return img;
    },
    spacer: function (c) { return el("div", "spacer size-" + (c.size || "s")); },
    divider: function () { return el("hr", "divider"); }
  };

  function show(canvas) {
    current = canvas;
    canvasEl.textContent = "";
    canvasEl.dataset.state = (canvas.stored_data && canvas.stored_data.step) || "unknown";
    canvas.content.components.forEach(function (c) {
      var make = render[c.type];
      canvasEl.appendChild(make ? make(c) : el("p", "text error", "Unknown component " + c.type));
    });
  }

  function inputValues() {
    var values = {};
    canvasEl.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (f) {
      if (!f.disabled) values[f.name] = f.value;
    });
    canvasEl.querySelectorAll("[data-select]").forEach(function (g) {
      if (g.dataset.value) values[g.dataset.select] = g.dataset.value;
    });
    canvasEl.querySelectorAll("[data-checkbox]").forEach(function (g) {
      values[g.dataset.checkbox] = Array.prototype.map.call(g.querySelectorAll("input:checked"), function (i) { return i.value; });
    });
    return values;
  }

  function basePayload() {
    var c = conversation, contact = {type: "contact", id: c.contact_id, role: "user", name: c.name, email: c.email,
      phone: c.phone, custom_attributes: {}};
    return {
      workspace_id: P.workspaceId, workspace_region: "us", admin: P.admin,
      conversation: {type: "conversation", id: c.id, state: "open", open: true, read: true,
        source: {type: "conversation", delivered_as: "customer_initiated", body: "<p>" + c.first + "</p>",
          author: {type: "user", id: c.contact_id, name: c.name, email: c.email}},
        contacts: {type: "contact.list", contacts: [{type: "contact", id: c.contact_id, external_id: null}]}},
      contact: contact,
      context: {location: "conversation", conversation_id: Number(c.id), locale: "en"}
    };
  }

  function post(step, payload) {
    busy = true;
    canvasEl.setAttribute("aria-busy", "true");
    canvasEl.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    return fetch(P.relay[step], {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload)
    }).then(function (r) { return r.json(); }).then(function (answer) {
      wireEl.textContent = "POST " + answer.request.path + "\nX-Body-Signature: " + answer.request.signature +
        "\n\n" + JSON.stringify(answer.request.body, null, 2) + "\n\n→ " + answer.status + "\n" +
        JSON.stringify(answer.body, null, 2);
      if (answer.status !== 200 || !answer.body || !answer.body.canvas) {
        canvasEl.textContent = ""; canvasEl.appendChild(el("p", "text error", "Something went wrong")); return;
      }
      show(answer.body.canvas);
      var sent = answer.body.canvas.stored_data && answer.body.canvas.stored_data.message;
      document.getElementById("deliver").disabled = !sent;
    }).catch(function () {
      canvasEl.textContent = ""; canvasEl.appendChild(el("p", "text error", "Herald did not answer."));
    }).finally(function () { busy = false; canvasEl.removeAttribute("aria-busy"); });
  }

  function submit(componentId) {
    if (busy || !current) return;
    var payload = basePayload();
    payload.component_id = componentId;
    payload.input_values = inputValues();
    payload.current_canvas = {content: current.content, stored_data: current.stored_data || {}};
    post("submit", payload);
  }

  function open(id) {
    conversation = P.conversations.filter(function (c) { return c.id === id; })[0];
    document.querySelectorAll(".conversation").forEach(function (b) {
      b.classList.toggle("active", b.dataset.conversation === id);
    });
    document.getElementById("thread-empty").hidden = true;
    document.getElementById("thread").hidden = false;
    document.getElementById("thread-name").textContent = conversation.name + (conversation.phone ? " · " + conversation.phone : "");
    document.getElementById("thread-about").textContent = conversation.about;
    document.getElementById("thread-first").textContent = conversation.first;
    document.getElementById("customer-said").textContent = "";
    document.getElementById("customer-actions").hidden = !conversation.phone;
    document.getElementById("deliver").disabled = true;
    current = null;
    post("initialize", basePayload());
  }

  function customerWrites(channel, text) {
    fetch(P.customer, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({channel: channel, phone: conversation.phone, text: text})})
      .then(function (r) { return r.json(); })
      .then(function (a) {
        document.getElementById("customer-said").textContent = a.error ? a.error :
          conversation.name + " wrote “" + text + "” on " + channel + ". Canvases are not refreshed by themselves: use Back or reopen the conversation.";
      });
  }

  function deliverLast() {
    var id = current && current.stored_data && current.stored_data.message;
    if (!id) return;
    fetch(P.deliver, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({message: id, until: "read"})})
      .then(function (r) { return r.json(); })
      .then(function (a) {
        document.getElementById("customer-said").textContent = a.error ? a.error :
          "The provider reported the message as " + a.status + ": use Refresh status.";
      });
  }

  document.querySelectorAll(".conversation").forEach(function (b) {
    b.addEventListener("click", function () { open(b.dataset.conversation); });
  });
  document.querySelectorAll("#customer-actions [data-channel]").forEach(function (b) {
    b.addEventListener("click", function () { customerWrites(b.dataset.channel, b.dataset.text); });
  });
  document.getElementById("deliver").addEventListener("click", deliverLast);
})();
