// chengguan-sim replay: one day on a canvas. Incidents appear where they occur and change
// state; advisors and enforcer teams ride from their posts along the streets and back.
// Reads the JSON block #replay-data (arrays as base64 typed arrays); no library, no network.
// The riding roles (name, colour, shape, words) come with the data from the role registry:
// a new role needs no edit here.
(function () {
  "use strict";
  const block = document.getElementById("replay-data");
  const canvas = document.getElementById("replay-canvas");
  if (!block || !canvas) return;
  const D = JSON.parse(block.textContent);

  function bytes(b64) {
    const s = atob(b64), u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return u.buffer;
  }
  const f32 = (b) => new Float32Array(bytes(b));
  const i32 = (b) => new Int32Array(bytes(b));
  const u8 = (b) => new Uint8Array(bytes(b));

  const nx = f32(D.nodes.x), ny = f32(D.nodes.y);
  const su = i32(D.streets.u), sv = i32(D.streets.v), sc = u8(D.streets.cls);
  const inc = {};
  for (const k of Object.keys(D.incidents)) {
    inc[k] = D.incidents[k].t === "f4" ? f32(D.incidents[k].b) : D.incidents[k].t === "i4" ? i32(D.incidents[k].b) : u8(D.incidents[k].b);
  }
  const nInc = inc.node.length;
  const ROLES = D.roles;  // [{name, one, plural, zh, colour, marker}] in the registry's order
  const trips = {};
  for (const { name: role } of ROLES) {
    const t = D.trips[role];
    trips[role] = {
      unit: i32(t.unit), t0: f32(t.leave_post), t1: f32(t.at_scene), t2: f32(t.leave_scene), t3: f32(t.at_post),
      path: i32(t.path), ps: i32(t.path_start), back: i32(t.back), bs: i32(t.back_start),
    };
  }
  const posts = {};
  for (const role of Object.keys(D.posts)) posts[role] = i32(D.posts[role]);
  const ADV = D.rules.advisor_minutes, ENF = D.rules.enforcer_minutes;
  const COLORS = D.colors;

  // ----- view: fit the map's box into the canvas
  const ctx = canvas.getContext("2d");
  let scale = 1, ox = 0, oy = 0, W = 0, H = 0;
  const bg = document.createElement("canvas");
  function layout() {
    const dpr = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    W = Math.max(320, Math.round(rect.width)); H = Math.max(240, Math.round(rect.height || rect.width * 0.75));
    canvas.width = W * dpr; canvas.height = H * dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const [x0, y0, x1, y1] = D.bounds;
    const pad = 12;
    scale = Math.min((W - 2 * pad) / (x1 - x0), (H - 2 * pad) / (y1 - y0));
    ox = pad + ((W - 2 * pad) - scale * (x1 - x0)) / 2 - scale * x0;
    oy = H - pad - ((H - 2 * pad) - scale * (y1 - y0)) / 2 + scale * y0;
    drawBackground(dpr);
  }
  const X = (x) => ox + scale * x, Y = (y) => oy - scale * y;

  function drawBackground(dpr) {
    bg.width = canvas.width; bg.height = canvas.height;
    const g = bg.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#fbfbf8"; g.fillRect(0, 0, W, H);
    for (const ring of D.offices) {  // street offices, filled faintly
      g.beginPath();
      for (let k = 0; k < ring.length; k += 2) (k ? g.lineTo : g.moveTo).call(g, X(ring[k]), Y(ring[k + 1]));
      g.closePath(); g.fillStyle = "#f0efe8"; g.fill();
    }
    const widths = [1.6, 1.4, 1.1, 0.9, 0.5, 0.4];
    for (let cls = 5; cls >= 0; cls--) {  // minor streets first, main roads on top
      g.beginPath();
      for (let k = 0; k < su.length; k++) {
        const c = sc[k] === 255 ? 4 : Math.min(sc[k], 5);
        if (c !== cls) continue;
        g.moveTo(X(nx[su[k]]), Y(ny[su[k]])); g.lineTo(X(nx[sv[k]]), Y(ny[sv[k]]));
      }
      g.strokeStyle = cls <= 1 ? "#a9a9a9" : cls <= 3 ? "#c2c2c2" : "#d6d6d6";
      g.lineWidth = widths[cls]; g.stroke();
    }
    g.lineWidth = 1.2; g.strokeStyle = "#555";
    for (const ring of D.offices) {
      g.beginPath();
      for (let k = 0; k < ring.length; k += 2) (k ? g.lineTo : g.moveTo).call(g, X(ring[k]), Y(ring[k + 1]));
      g.closePath(); g.stroke();
    }
    for (const h of D.hotspots) {
      g.beginPath(); g.arc(X(h.x), Y(h.y), Math.max(3, h.r * scale), 0, 2 * Math.PI);
      g.setLineDash([4, 3]); g.strokeStyle = COLORS.hotspot; g.stroke(); g.setLineDash([]);
    }
    g.globalAlpha = 0.25;
    for (const role of ROLES) {  // posts, faint
      g.fillStyle = role.colour;
      for (const n of posts[role.name] || []) g.fillRect(X(nx[n]) - 1, Y(ny[n]) - 1, 2, 2);
    }
    g.globalAlpha = 1;
  }

  // ----- a riding unit's mark: the role's shape (matplotlib's marker codes)
  function mark(marker, x, y) {
    ctx.beginPath();
    if (marker === "^") { ctx.moveTo(x, y - 4.5); ctx.lineTo(x + 4, y + 3); ctx.lineTo(x - 4, y + 3); }
    else if (marker === "s") ctx.rect(x - 3.5, y - 3.5, 7, 7);
    else if (marker === "D") { ctx.moveTo(x, y - 4.5); ctx.lineTo(x + 4.5, y); ctx.lineTo(x, y + 4.5); ctx.lineTo(x - 4.5, y); }
    else ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
    ctx.closePath(); ctx.fill();
  }

  // ----- where a unit is at minute t of a trip
  const cum = {};
  function cumulative(role, which, k) {
    const key = role + which + k;
    if (cum[key]) return cum[key];
    const T = trips[role], arr = which === "out" ? T.path : T.back, st = which === "out" ? T.ps : T.bs;
    const a = st[k], b = st[k + 1], c = new Float32Array(Math.max(b - a, 1));
    for (let i = a + 1; i < b; i++) c[i - a] = c[i - a - 1] + Math.hypot(nx[arr[i]] - nx[arr[i - 1]], ny[arr[i]] - ny[arr[i - 1]]);
    return (cum[key] = c);
  }
  function along(role, which, k, f) {
    const T = trips[role], arr = which === "out" ? T.path : T.back, st = which === "out" ? T.ps : T.bs;
    const a = st[k], b = st[k + 1];
    if (b - a <= 1) return [nx[arr[a]], ny[arr[a]]];
    const c = cumulative(role, which, k), goal = f * c[c.length - 1];
    let i = 1;
    while (i < c.length - 1 && c[i] < goal) i++;
    const seg = c[i] - c[i - 1], g = seg > 0 ? (goal - c[i - 1]) / seg : 1;
    const p = arr[a + i - 1], q = arr[a + i];
    return [nx[p] + (nx[q] - nx[p]) * g, ny[p] + (ny[q] - ny[p]) * g];
  }

  // ----- an incident's state at minute t
  const S = { HIDDEN: 0, UNREPORTED: 1, WAITING: 2, LATE: 3, ADVISOR: 4, ESCALATED: 5, TEAM: 6, CLOSED: 7, CLOSED_LATE: 8 };
  function state(i, t) {
    const occ = inc.occurred[i], ins = inc.instructed[i], adv = inc.advisor_arrived[i];
    const pe = inc.persuasion_ended[i], enf = inc.enforcer_arrived[i], cl = inc.closed[i];
    if (!(t >= occ)) return S.HIDDEN;
    if (cl <= t) {
      if (t - cl > 30) return S.HIDDEN;
      return inc.late[i] ? S.CLOSED_LATE : S.CLOSED;
    }
    if (!(t >= ins)) return S.UNREPORTED;
    if (!(t >= adv)) return t - ins > ADV ? S.LATE : S.WAITING;
    if (!(t >= pe)) return S.ADVISOR;
    if (inc.escalated[i]) {
      if (!(t >= enf)) return t - pe > ENF ? S.LATE : S.ESCALATED;
      return S.TEAM;
    }
    return S.CLOSED;
  }
  const STYLE = {};
  STYLE[S.UNREPORTED] = [COLORS.unreported, 2.2];
  STYLE[S.WAITING] = [COLORS.waiting, 3.6];
  STYLE[S.LATE] = [COLORS.late, 4.2];
  STYLE[S.ADVISOR] = [COLORS.advisor, 3.6];
  STYLE[S.ESCALATED] = [COLORS.escalated, 4.0];
  STYLE[S.TEAM] = [COLORS.team, 4.0];
  STYLE[S.CLOSED] = [COLORS.closed, 2.4];
  STYLE[S.CLOSED_LATE] = [COLORS.late, 2.4];

  // ----- drawing a frame
  const clock = document.getElementById("replay-clock");
  const slider = document.getElementById("replay-time");
  const counts = document.getElementById("replay-counts");
  let t = D.from, playing = false, last = null;
  function hhmm(m) {
    const x = Math.floor(((m % 1440) + 1440) % 1440);
    return String(Math.floor(x / 60)).padStart(2, "0") + ":" + String(x % 60).padStart(2, "0");
  }
  function draw() {
    ctx.drawImage(bg, 0, 0, W, H);
    const n = { waiting: 0, late: 0, advisor: 0, escalated: 0, team: 0, closed: 0, missed: 0 };
    const riding = {};
    for (let i = 0; i < nInc; i++) {
      const s = state(i, t);
      if (inc.closed[i] <= t && inc.closed[i] >= 0 && inc.counted[i]) { n.closed++; if (inc.late[i]) n.missed++; }
      if (s === S.HIDDEN) continue;
      if (s === S.WAITING) n.waiting++; else if (s === S.LATE) { n.late++; } else if (s === S.ADVISOR) n.advisor++;
      else if (s === S.ESCALATED) n.escalated++; else if (s === S.TEAM) n.team++;
      const [col, r] = STYLE[s];
      const node = inc.node[i];
      ctx.beginPath(); ctx.arc(X(nx[node]), Y(ny[node]), r, 0, 2 * Math.PI);
      if (s === S.CLOSED || s === S.CLOSED_LATE || s === S.UNREPORTED) { ctx.strokeStyle = col; ctx.lineWidth = 1.2; ctx.stroke(); }
      else { ctx.fillStyle = col; ctx.fill(); }
    }
    for (const { name: role, colour, marker } of ROLES) {
      const T = trips[role];
      riding[role] = 0;
      ctx.fillStyle = colour;
      for (let k = 0; k < T.unit.length; k++) {
        if (!(t >= T.t0[k]) || t > T.t3[k]) continue;
        let p;
        if (t < T.t1[k]) p = along(role, "out", k, (t - T.t0[k]) / Math.max(T.t1[k] - T.t0[k], 1e-6));
        else if (!(t >= T.t2[k])) continue;  // on scene: the incident's dot shows it
        else if (t < T.t3[k]) p = along(role, "back", k, (t - T.t2[k]) / Math.max(T.t3[k] - T.t2[k], 1e-6));
        else continue;
        riding[role]++;
        mark(marker, X(p[0]), Y(p[1]));
      }
    }
    clock.textContent = "Day " + D.day + " · " + hhmm(t);
    if (document.activeElement !== slider) slider.value = String(t);
    counts.innerHTML = [
      ["waiting for an advisor", n.waiting], ["late (a clock past its deadline)", n.late],
      ["advisor on scene", n.advisor], ["escalated, enforcers on the way", n.escalated],
      ["enforcers on scene", n.team], ...ROLES.map((r) => [r.plural + " riding", riding[r.name]]),
      ["closed so far today", n.closed], ["of them late on a clock", n.missed],
    ].map(([k, v]) => "<tr><td>" + k + "</td><td>" + v + "</td></tr>").join("");
  }

  // ----- controls
  const play = document.getElementById("replay-play");
  const speed = document.getElementById("replay-speed");
  function tick(now) {
    if (!playing) return;
    if (last !== null) {
      t += ((now - last) / 1000) * Number(speed.value);
      if (t >= D.to) { t = D.to; playing = false; play.textContent = "Play"; }
    }
    last = now;
    draw();
    if (playing) requestAnimationFrame(tick);
  }
  play.addEventListener("click", () => {
    playing = !playing;
    play.textContent = playing ? "Pause" : "Play";
    if (playing) { if (t >= D.to) t = D.from; last = null; requestAnimationFrame(tick); }
  });
  slider.addEventListener("input", () => { t = Number(slider.value); draw(); });
  window.addEventListener("resize", () => { layout(); draw(); });
  const ready = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  layout(); draw();
  ready.then(() => draw());
})();
