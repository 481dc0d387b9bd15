// Daybreak device page: asks for the token once, talks to this device over Socket.IO
// (WebSocket only, the protocol in docs/protocol.md) and shows its state live.
// Plain JavaScript, no build step; `io` comes from the vendored socket.io.min.js.
"use strict";

(() => {
  const TOKEN_KEY = "daybreak.token";
  const ACK_TIMEOUT_MS = 5000;
  const SEND_INTERVAL_MS = 150; // at most one brightness command this often while dragging
  const SETTLE_MS = 1000; // after the last slider move, pushed states move the slider again
  const BRIGHTNESS_MAX = 255;

  const $ = (id) => document.getElementById(id);
  const ui = {
    name: $("device-name"),
    connection: $("connection"),
    connectionText: $("connection-text"),
    error: $("error"),
    login: $("login"),
    loginForm: $("login-form"),
    token: $("token"),
    controls: $("controls"),
    power: $("power"),
    powerText: $("power-text"),
    brightness: $("brightness"),
    brightnessValue: $("brightness-value"),
    transition: $("transition"),
    sunriseRunning: $("sunrise-running"),
    sunriseProgress: $("sunrise-progress"),
    sunrisePercent: $("sunrise-percent"),
    sunriseSummary: $("sunrise-summary"),
    sunriseStop: $("sunrise-stop"),
    sunriseForm: $("sunrise-form"),
    sunriseDuration: $("sunrise-duration"),
    sunriseTarget: $("sunrise-target"),
    sunriseCurve: $("sunrise-curve"),
    sunriseStart: $("sunrise-start"),
    info: $("info"),
    forget: $("forget"),
  };

  let socket = null;
  let state = null;
  let errorKind = null; // "connection" or "command": which kind of error is on show

  // -- small helpers ---------------------------------------------------------------

  /** Wire brightness (0-255) to the percent people see; anything lit is at least 1%. */
  function toPercent(brightness) {
    const percent = Math.round((brightness * 100) / BRIGHTNESS_MAX);
    return brightness > 0 ? Math.max(1, percent) : 0;
  }

  /** Percent (0-100) to wire brightness. */
  function toWire(percent) {
    return Math.round((percent * BRIGHTNESS_MAX) / 100);
  }

  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const clockSeconds = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });

  /** "45 s", "12 min", "1 h 5 min". */
  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    const minutes = Math.round(s / 60);
    if (minutes < 60) return `${minutes} min`;
    const rest = minutes % 60;
    return rest ? `${Math.floor(minutes / 60)} h ${rest} min` : `${minutes / 60} h`;
  }

  function showError(message, kind = "command") {
    ui.error.textContent = message || "";
    ui.error.hidden = !message;
    errorKind = message ? kind : null;
  }

  function clearError(kind) {
    if (errorKind === kind) showError("");
  }

  function setConnection(status, text) {
    ui.connection.dataset.status = status;
    ui.connectionText.textContent = text;
    const usable = status === "connected";
    for (const control of ui.controls.querySelectorAll("button, input, select")) {
      control.disabled = !usable;
    }
  }

  function storedToken() {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage disabled: ask every time
    }
  }

  function storeToken(token) {
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: nothing to keep
    }
  }

  // -- connection ------------------------------------------------------------------

  function showLogin(message) {
    ui.controls.hidden = true;
    ui.forget.hidden = true;
    ui.login.hidden = false;
    if (message) showError(message, "connection");
    ui.token.focus();
  }

  function closeSocket() {
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
      socket = null;
    }
  }

  function connect(token) {
    closeSocket();
    setConnection("connecting", "Connecting…");
    ui.forget.hidden = false; // also while the device cannot be reached
    const sock = io({
      transports: ["websocket"],
      auth: { token },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
    });
    socket = sock;

    sock.on("connect", () => {
      const fromLogin = !ui.login.hidden && ui.login.contains(document.activeElement);
      storeToken(token);
      setConnection("connected", "Connected");
      clearError("connection");
      ui.token.value = "";
      ui.login.hidden = true;
      ui.controls.hidden = false;
      ui.forget.hidden = false;
      if (fromLogin) ui.power.focus(); // keyboard users land on the first control
      loadInfo(); // on every connection: the device may have been renamed or upgraded
    });

    sock.on("connect_error", (err) => {
      if (err && err.data && err.data.code === "unauthorized") {
        // Refused by the device: the client does not retry; ask for the token again.
        closeSocket();
        storeToken(null);
        setConnection("idle", "Not connected");
        showLogin("Wrong token: the device refused it. Check the token and try again.");
        return;
      }
      setConnection("reconnecting", "Reconnecting…");
      showError(
        `Cannot reach the device (${(err && err.message) || "no answer"}). Reconnecting…`,
        "connection",
      );
    });

    sock.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return; // we closed it
      setConnection("reconnecting", "Reconnecting…");
      showError("Lost the connection to the device. Reconnecting…", "connection");
      if (reason === "io server disconnect") {
        // The device closed it (e.g. it is restarting); the client would not retry.
        setTimeout(() => {
          if (socket === sock && !sock.connected) sock.connect();
        }, 1000);
      }
    });

    sock.on("state", render);
  }

  async function loadInfo() {
    const ack = await command("info.get");
    if (!ack || !ack.info) return;
    const info = ack.info;
    ui.name.textContent = info.name || "Daybreak";
    document.title = `${info.name || "Daybreak"} – Daybreak`;
    ui.info.textContent = `${info.model} · software ${info.sw_version} · protocol ${info.protocol_version}`;
  }

  /** Send one command; render the state it returns. Returns the ack, or null on failure. */
  async function command(event, payload) {
    if (!socket || !socket.connected) {
      showError("Not connected to the device.", "command");
      return null;
    }
    let ack;
    try {
      const emitter = socket.timeout(ACK_TIMEOUT_MS);
      ack =
        payload === undefined
          ? await emitter.emitWithAck(event)
          : await emitter.emitWithAck(event, payload);
    } catch {
      showError("The device did not answer in time.", "command");
      return null;
    }
    if (ack && ack.ok) {
      clearError("command");
      if (ack.state) render(ack.state);
      return ack;
    }
    const error = (ack && ack.error) || { code: "unknown", message: "unexpected answer" };
    showError(`The device refused that: ${error.message} (${error.code})`, "command");
    return null;
  }

  // -- state -----------------------------------------------------------------------

  function render(next) {
    state = next;
    const on = Boolean(next.on);
    ui.power.setAttribute("aria-checked", String(on));
    ui.powerText.textContent = on ? "On" : "Off";

    if (!sliderBusy()) showBrightness(toPercent(next.brightness));

    const transition = next.transition;
    ui.transition.hidden = !transition;
    if (transition) {
      const until = clockSeconds.format(new Date(transition.ends_at));
      ui.transition.textContent = `Fading to ${toPercent(transition.target_brightness)}% by ${until}`;
    }

    const sunrise = next.sunrise;
    const wasRunning = !ui.sunriseRunning.hidden;
    const focus = document.activeElement;
    const focusInForm = ui.sunriseForm.contains(focus);
    const focusInRunning = ui.sunriseRunning.contains(focus);
    ui.sunriseRunning.hidden = !sunrise;
    ui.sunriseForm.hidden = Boolean(sunrise);
    if (sunrise) {
      const percent = Math.floor(sunrise.progress * 100);
      ui.sunriseProgress.value = sunrise.progress;
      ui.sunriseProgress.setAttribute("aria-valuetext", `${percent}%`);
      ui.sunrisePercent.textContent = `${percent}%`;
      const endsAt = clock.format(new Date(sunrise.ends_at));
      const left = formatDuration(sunrise.duration * (1 - sunrise.progress));
      ui.sunriseSummary.textContent =
        `Ends at ${endsAt} (${left} left), rising to ` +
        `${toPercent(sunrise.target_brightness)}%.`;
    }
    // Keep the keyboard focus in the sunrise card when the part it was in is hidden.
    if (sunrise && !wasRunning && focusInForm) ui.sunriseStop.focus();
    else if (!sunrise && wasRunning && focusInRunning) ui.sunriseStart.focus();
  }

  function showBrightness(percent) {
    ui.brightness.value = String(percent);
    updateBrightnessLabel(percent);
  }

  function updateBrightnessLabel(percent) {
    ui.brightnessValue.textContent = `${percent}%`;
    ui.brightness.setAttribute("aria-valuetext", `${percent}%`);
    ui.brightness.style.setProperty("--fill", `${percent}%`);
  }

  // -- brightness slider: sends while dragging (throttled, one command in flight) and
  // on release; pushed states do not move it while it is being used.

  let pointerDown = false;
  let lastMove = -Infinity;
  let pending = null; // percent waiting to be sent
  let inFlight = false;
  let nextSendAt = 0; // performance.now() before which no brightness command goes out
  let lastSent = null; // the percent last sent, and when
  let lastSentAt = -Infinity;
  let sendTimer = null;
  let settleTimer = null;

  function sliderBusy() {
    return (
      pointerDown || inFlight || pending !== null || performance.now() - lastMove < SETTLE_MS
    );
  }

  function queueBrightness(percent, now) {
    pending = percent;
    if (now) nextSendAt = 0; // released: no need to wait for the interval
    pump();
    clearTimeout(settleTimer);
    // Once the user lets go, show what the device really has (e.g. after a refusal).
    settleTimer = setTimeout(function settle() {
      if (sliderBusy()) settleTimer = setTimeout(settle, SETTLE_MS);
      else if (state) showBrightness(toPercent(state.brightness));
    }, SETTLE_MS);
  }

  function pump() {
    if (inFlight || pending === null) return;
    const wait = nextSendAt - performance.now();
    if (wait > 0) {
      if (sendTimer === null) {
        sendTimer = setTimeout(() => {
          sendTimer = null;
          pump();
        }, wait);
      }
      return;
    }
    const percent = pending;
    pending = null;
    const now = performance.now();
    if (percent === lastSent && now - lastSentAt < SETTLE_MS) return; // sent just now
    inFlight = true;
    nextSendAt = now + SEND_INTERVAL_MS;
    lastSent = percent;
    lastSentAt = now;
    command("light.set", { brightness: toWire(percent) }).finally(() => {
      inFlight = false;
      pump();
    });
  }

  function sliderPercent() {
    return Number(ui.brightness.value);
  }

  ui.brightness.addEventListener("pointerdown", () => {
    pointerDown = true;
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    ui.brightness.addEventListener(type, () => {
      pointerDown = false;
    });
  }
  ui.brightness.addEventListener("input", () => {
    lastMove = performance.now();
    updateBrightnessLabel(sliderPercent());
    queueBrightness(sliderPercent(), false);
  });
  ui.brightness.addEventListener("change", () => {
    lastMove = performance.now();
    queueBrightness(sliderPercent(), true);
  });

  // -- other controls --------------------------------------------------------------

  ui.power.addEventListener("click", () => {
    const on = ui.power.getAttribute("aria-checked") === "true";
    command("light.set", { on: !on });
  });

  ui.sunriseForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ui.sunriseForm.reportValidity()) return;
    command("sunrise.start", {
      duration: Number(ui.sunriseDuration.value) * 60,
      target_brightness: Math.max(1, toWire(Number(ui.sunriseTarget.value))),
      curve: ui.sunriseCurve.value,
    });
  });

  ui.sunriseStop.addEventListener("click", () => {
    command("sunrise.stop");
  });

  ui.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = ui.token.value.trim();
    if (!token) {
      ui.token.reportValidity();
      return;
    }
    showError("");
    connect(token);
  });

  ui.forget.addEventListener("click", () => {
    closeSocket();
    storeToken(null);
    state = null;
    setConnection("idle", "Not connected");
    showError("");
    showLogin();
  });

  // -- start -------------------------------------------------------------------------

  if (typeof io !== "function") {
    showError("The Socket.IO client did not load; reload the page.", "connection");
    return;
  }
  const token = storedToken();
  if (token) connect(token);
  else showLogin();
})();
