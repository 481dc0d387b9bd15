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
  const MAX_ALARMS = 20; // the device keeps at most this many (protocol.py: MAX_ALARMS)
  const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]; // 0 = Monday
  const DAY_MS = 24 * 3600 * 1000;

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
    sunriseColor: $("sunrise-color"),
    sunriseColorField: $("sunrise-color-field"),
    sunriseColour: $("sunrise-colour"),
    sunriseColourText: $("sunrise-colour-text"),
    sunriseSwatch: $("sunrise-swatch"),
    colourFields: $("colour-fields"),
    colourField: $("colour-field"),
    colour: $("colour"),
    colourSwatch: $("colour-swatch"),
    kelvin: $("kelvin"),
    kelvinValue: $("kelvin-value"),
    sunriseStart: $("sunrise-start"),
    wake: $("wake"),
    wakeSummary: $("wake-summary"),
    snooze: $("snooze"),
    dismiss: $("dismiss"),
    sunsetRunning: $("sunset-running"),
    sunsetProgress: $("sunset-progress"),
    sunsetPercent: $("sunset-percent"),
    sunsetSummary: $("sunset-summary"),
    sunsetStop: $("sunset-stop"),
    sunsetForm: $("sunset-form"),
    sunsetDuration: $("sunset-duration"),
    sunsetStart: $("sunset-start"),
    wakeSettingsForm: $("wake-settings-form"),
    snoozeLength: $("snooze-length"),
    snoozeLevel: $("snooze-level"),
    dismissAction: $("dismiss-action"),
    afterWake: $("after-wake"),
    wakeSettingsStatus: $("wake-settings-status"),
    alarmsTitle: $("alarms-title"),
    nextSunrise: $("next-sunrise"),
    alarmZone: $("alarm-zone"),
    alarmList: $("alarm-list"),
    alarmEmpty: $("alarm-empty"),
    alarmLimit: $("alarm-limit"),
    alarmForm: $("alarm-form"),
    alarmFormTitle: $("alarm-form-title"),
    alarmTime: $("alarm-time"),
    alarmName: $("alarm-name"),
    alarmDate: $("alarm-date"),
    alarmDuration: $("alarm-duration"),
    alarmTarget: $("alarm-target"),
    alarmCurve: $("alarm-curve"),
    alarmColor: $("alarm-color"),
    alarmColorField: $("alarm-color-field"),
    alarmDaySet: $("alarm-days"),
    alarmDays: [...$("alarm-days").querySelectorAll("input")],
    alarmSave: $("alarm-save"),
    alarmCancel: $("alarm-cancel"),
    alarmStatus: $("alarm-status"),
    alarmTemplate: $("alarm-template"),
    info: $("info"),
    forget: $("forget"),
  };

  let socket = null;
  let state = null;
  let channels = null; // the device's colour channels (info), null for one channel
  let errorKind = null; // "connection" or "command": which kind of error is on show
  let alarms = []; // the device's alarms, as it last listed them
  let editing = null; // the alarm in the form: {id, shown: the form's values when opened}
  let saving = false; // an alarm form command is on its way

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

  /** The wall-clock parts of a device-local ISO time ("2026-11-24T06:00:00+01:00"). */
  function localParts(iso) {
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso || "");
    if (!m) return null;
    const date = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const day = DAY_NAMES[(new Date(date).getUTCDay() + 6) % 7];
    return { date, day, time: `${m[4]}:${m[5]}` };
  }

  const shortDate = new Intl.DateTimeFormat(undefined, {
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  });

  /** A sunrise in the device's time: "Tue 06:00 → 06:30"; the date when a week away. */
  function formatSunrise(sunrise) {
    const start = localParts(sunrise.starts_at);
    const wake = localParts(sunrise.wake_at);
    if (!start || !wake) return "unknown";
    const far = new Date(sunrise.starts_at).getTime() - Date.now() > 6 * DAY_MS;
    const day = far ? `${start.day} ${shortDate.format(start.date)}` : start.day;
    const wakeDay = wake.date === start.date ? "" : `${wake.day} `; // starts the evening before
    return `${day} ${start.time} → ${wakeDay}${wake.time}`;
  }

  /** Weekday numbers as "Every day", "Mon–Fri", "Mon, Wed, Fri–Sun"... */
  function formatDays(weekdays) {
    const days = [...weekdays].sort((a, b) => a - b);
    if (days.length === 7) return "Every day";
    const parts = [];
    for (let i = 0; i < days.length; ) {
      let j = i;
      while (j + 1 < days.length && days[j + 1] === days[j] + 1) j++;
      if (j - i >= 2) parts.push(`${DAY_NAMES[days[i]]}–${DAY_NAMES[days[j]]}`);
      else for (let k = i; k <= j; k++) parts.push(DAY_NAMES[days[k]]);
      i = j + 1;
    }
    return parts.join(", ");
  }

  /** The name a curve has in the forms ("Slow start"). */
  function curveName(curve) {
    const option = [...ui.alarmCurve.options].find((o) => o.value === curve);
    return option ? option.textContent : curve;
  }

  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text; // no needless DOM churn
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
      command("alarms.list"); // protocol 2 devices push them too; older ones do not
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
      if (err && err.data && err.data.code === "rate_limited") {
        // Too many wrong tokens from this address: the device did not even check this one.
        closeSocket();
        setConnection("idle", "Not connected");
        showLogin(
          `Too many wrong tokens from this address: try again in ${err.data.retry_after} s.`,
        );
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
    sock.on("alarms", (payload) => {
      if (payload && Array.isArray(payload.alarms)) renderAlarms(payload.alarms);
    });
  }

  async function loadInfo() {
    const ack = await command("info.get");
    if (!ack || !ack.info) return;
    const info = ack.info;
    ui.name.textContent = info.name || "Daybreak";
    document.title = `${info.name || "Daybreak"} – Daybreak`;
    ui.info.textContent = `${info.model} · software ${info.sw_version} · protocol ${info.protocol_version}`;
    showChannels(info.channels || null);
    ui.alarmZone.hidden = !info.timezone;
    if (info.timezone) {
      const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
      ui.alarmZone.textContent =
        `Alarm times are in the device's time zone, ${info.timezone}` +
        (here && here !== info.timezone ? ` (this browser is on ${here}).` : ".");
    }
  }

  /** Show the colour controls the device's channels allow (none for one channel). */
  function showChannels(next) {
    channels = next;
    ui.colourFields.hidden = !channels;
    ui.sunriseColorField.hidden = !channels;
    ui.alarmColorField.hidden = !channels;
    if (!channels) return;
    ui.kelvin.min = String(channels.min_color_temp_kelvin);
    ui.kelvin.max = String(channels.max_color_temp_kelvin);
    ui.colourField.hidden = channels.layout === "cct";
    if (state) render(state);
  }

  function hex(rgb) {
    return "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
  }

  /** The name a colour path has in the forms ("Red to white"). */
  function colorPathName(path) {
    const option = [...ui.alarmColor.options].find((o) => o.value === path);
    return option ? option.textContent : path;
  }

  function showKelvin(kelvin) {
    ui.kelvinValue.textContent = `${kelvin} K`;
    ui.kelvin.setAttribute("aria-valuetext", `${kelvin} K`);
  }

  /** Send one command; render the state (and alarms) it returns. The ack, or null. */
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
      if (Array.isArray(ack.alarms)) renderAlarms(ack.alarms);
      return ack;
    }
    const error = (ack && ack.error) || { code: "unknown", message: "unexpected answer" };
    if (error.code === "no_alarm") {
      showError("No alarm is in progress any more, so there is nothing to snooze or dismiss.");
      return null;
    }
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
    // The colour shown, live during a sunrise (colour devices only).
    const rgb = channels && Array.isArray(next.rgb_color) ? next.rgb_color : null;
    ui.sunriseColour.hidden = !(sunrise && rgb);
    if (rgb) {
      const kelvin = next.color_temp_kelvin;
      ui.colourSwatch.style.backgroundColor = hex(rgb);
      ui.sunriseSwatch.style.backgroundColor = hex(rgb);
      if (document.activeElement !== ui.colour) ui.colour.value = hex(rgb);
      if (kelvin && document.activeElement !== ui.kelvin) {
        ui.kelvin.value = String(kelvin);
        showKelvin(kelvin);
      }
      if (sunrise) {
        const path = sunrise.color_path ? `, ${colorPathName(sunrise.color_path).toLowerCase()}` : "";
        ui.sunriseColourText.textContent = `Colour now: ${kelvin ? `${kelvin} K` : hex(rgb)}${path}`;
      }
    }
    // Keep the keyboard focus in the sunrise card when the part it was in is hidden.
    if (sunrise && !wasRunning && focusInForm) ui.sunriseStop.focus();
    else if (!sunrise && wasRunning && focusInRunning) ui.sunriseStart.focus();

    renderSunset(next.sunset || null);
    renderWake(next.alarm || null);
    renderWakeSettings(next.wake_settings || null);

    const upcoming = next.next_sunrise;
    setText(
      ui.nextSunrise,
      upcoming ? `Next sunrise: ${formatSunrise(upcoming)}` : "No alarm sunrise coming up.",
    );
  }

  function renderSunset(sunset) {
    const wasRunning = !ui.sunsetRunning.hidden;
    const focus = document.activeElement;
    const focusInForm = ui.sunsetForm.contains(focus);
    const focusInRunning = ui.sunsetRunning.contains(focus);
    ui.sunsetRunning.hidden = !sunset;
    ui.sunsetForm.hidden = Boolean(sunset);
    if (sunset) {
      const percent = Math.floor(sunset.progress * 100);
      ui.sunsetProgress.value = sunset.progress;
      ui.sunsetProgress.setAttribute("aria-valuetext", `${percent}%`);
      ui.sunsetPercent.textContent = `${percent}%`;
      const endsAt = clock.format(new Date(sunset.ends_at));
      const left = formatDuration(sunset.duration * (1 - sunset.progress));
      ui.sunsetSummary.textContent =
        `Off at ${endsAt} (${left} left), from ${toPercent(sunset.start_brightness)}%.`;
    }
    if (sunset && !wasRunning && focusInForm) ui.sunsetStop.focus();
    else if (!sunset && wasRunning && focusInRunning) ui.sunsetStart.focus();
  }

  let wakeTimer = null;

  /** The alarm in progress: snooze and dismiss, and the snooze's countdown. */
  function renderWake(alarm) {
    const focusIn = ui.wake.contains(document.activeElement);
    ui.wake.hidden = !alarm;
    clearInterval(wakeTimer);
    wakeTimer = null;
    if (!alarm) {
      if (focusIn) ui.power.focus();
      return;
    }
    const update = () => {
      const until = alarm.snoozed_until ? new Date(alarm.snoozed_until) : null;
      const wakeAt = clock.format(new Date(alarm.wake_at));
      if (until) {
        const left = Math.max(0, (until.getTime() - Date.now()) / 1000);
        const minutes = Math.floor(left / 60);
        const seconds = String(Math.floor(left % 60)).padStart(2, "0");
        setText(
          ui.wakeSummary,
          `Snoozed: the sunrise goes on in ${minutes}:${seconds} ` +
            `(at ${clockSeconds.format(until)}); full light at ${wakeAt}.`,
        );
      } else {
        setText(ui.wakeSummary, `Your alarm is waking you: full light at ${wakeAt}.`);
      }
    };
    update();
    if (alarm.snoozed_until) wakeTimer = setInterval(update, 1000);
  }

  let wakeSettingsShown = null; // the settings the form shows, as the device sent them

  /** Show the device's settings in the form, unless the user is in it (or ``force``). */
  function renderWakeSettings(settings, force = false) {
    if (!settings) return;
    const key = JSON.stringify(settings);
    const busy = ui.wakeSettingsForm.contains(document.activeElement);
    if (key === wakeSettingsShown || (busy && !force)) return;
    wakeSettingsShown = key;
    ui.snoozeLength.value = String(Math.round(settings.snooze_length / 60));
    ui.snoozeLevel.value = String(toPercent(settings.snooze_level));
    ui.dismissAction.value = settings.dismiss;
    ui.afterWake.value = String(Math.round(settings.after_wake / 60));
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

  // -- alarms: listed from every ack and every pushed "alarms"; one form adds and edits.

  function renderAlarms(list) {
    alarms = list;
    // Keep the focus on the same control of the same alarm; if that alarm went away, on
    // the one that took its place (or the heading).
    const active = document.activeElement;
    const focusedItem = ui.alarmList.contains(active) ? active.closest("li") : null;
    const focused = focusedItem && {
      id: focusedItem.dataset.id,
      action: active.dataset.action,
      index: [...ui.alarmList.children].indexOf(focusedItem),
    };
    if (editing && !list.some((alarm) => alarm.id === editing.id)) {
      resetAlarmForm();
      announce("The alarm you were editing was deleted.");
    }
    ui.alarmList.replaceChildren(...list.map(alarmItem));
    ui.alarmList.hidden = list.length === 0;
    ui.alarmEmpty.hidden = list.length > 0;

    const full = list.length >= MAX_ALARMS;
    ui.alarmLimit.hidden = !full;
    const formHad = ui.alarmForm.contains(document.activeElement);
    ui.alarmForm.hidden = full && !editing;

    if (focused) {
      const items = [...ui.alarmList.children];
      const item =
        items.find((li) => li.dataset.id === focused.id) ||
        items[Math.min(focused.index, items.length - 1)];
      const target = item && item.querySelector(`[data-action="${focused.action}"]`);
      (target || ui.alarmsTitle).focus();
    } else if (formHad && ui.alarmForm.hidden) {
      ui.alarmsTitle.focus();
    }
  }

  /** One alarm's list item, from the template. */
  function alarmItem(alarm, index) {
    const item = ui.alarmTemplate.content.firstElementChild.cloneNode(true);
    const part = (name) => item.querySelector(`.alarm-${name}`);
    item.dataset.id = alarm.id;
    item.classList.toggle("off", !alarm.enabled);
    item.classList.toggle("editing", Boolean(editing && editing.id === alarm.id));
    const title = part("title");
    title.id = `alarm-${index}-title`;
    // A name of its own; one named by its wake time shows the time alone.
    part("name").textContent = alarmName(alarm) || "";
    part("time").textContent = alarm.time;
    part("days").textContent = formatSchedule(alarm);
    part("sunrise").textContent =
      `${formatDuration(alarm.duration)} sunrise to ${toPercent(alarm.target_brightness)}%, ` +
      `${curveName(alarm.curve).toLowerCase()}` +
      (channels && alarm.color_path ? `, ${colorPathName(alarm.color_path).toLowerCase()}` : "");
    part("next").textContent = alarmNext(alarm);

    const enabled = part("enabled");
    enabled.setAttribute("aria-checked", String(alarm.enabled));
    enabled.querySelector(".switch-text").textContent = alarm.enabled ? "On" : "Off";
    part("skip").textContent = alarm.skip_next ? "Undo skip" : "Skip next";
    const usable = ui.connection.dataset.status === "connected";
    for (const button of item.querySelectorAll("button")) {
      button.id = `alarm-${index}-${button.dataset.action}`;
      // Named with the alarm ("Edit 06:30 Mon–Fri"); the switch by the alarm alone.
      const names = button === enabled ? [title.id] : [button.id, title.id];
      button.setAttribute("aria-labelledby", names.join(" "));
      button.disabled = !usable;
    }
    return item;
  }

  /** The alarm's own name, or null when it is named by its wake time (or has no name). */
  function alarmName(alarm) {
    return alarm.name && alarm.name !== alarm.time ? alarm.name : null;
  }

  /** How messages call an alarm: "Work 06:30 Mon–Fri" or "06:30 Mon–Fri". */
  function alarmLabel(alarm) {
    const name = alarmName(alarm);
    return `${name ? `${name} ` : ""}${alarm.time} ${formatSchedule(alarm)}`;
  }

  /** When an alarm rings: its days ("Mon–Fri"), or its one date ("once, Wed 25 Nov 2026"). */
  function formatSchedule(alarm) {
    if (!alarm.date) return formatDays(alarm.weekdays);
    // The date is the device's local date: format it as a calendar date, not an instant.
    const [year, month, day] = alarm.date.split("-").map(Number);
    const shown = new Date(Date.UTC(year, month - 1, day)).toLocaleDateString(undefined, {
      timeZone: "UTC",
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
    });
    return `once, ${shown}`;
  }

  /** What an alarm will do next, in words. */
  function alarmNext(alarm) {
    if (!alarm.enabled) return alarm.skip_next ? "Off (next one skipped)" : "Off";
    if (!alarm.next_sunrise) return "No sunrise coming up";
    const when = formatSunrise(alarm.next_sunrise);
    return alarm.skip_next ? `Next one skipped; then ${when}` : `Next sunrise: ${when}`;
  }

  function announce(text) {
    ui.alarmStatus.textContent = text;
  }

  // The form's fields as the device takes them.
  const alarmFields = {
    time: () => ui.alarmTime.value,
    // null: named by its wake time (alarm.update takes null to take a name away).
    name: () => ui.alarmName.value.trim() || null,
    // A date makes it a one-off alarm (then the days are not sent); none: weekly.
    date: () => ui.alarmDate.value || null,
    weekdays: () => ui.alarmDays.filter((box) => box.checked).map((box) => Number(box.value)),
    duration: () => Number(ui.alarmDuration.value) * 60,
    target_brightness: () => Math.max(1, toWire(Number(ui.alarmTarget.value))),
    curve: () => ui.alarmCurve.value,
  };

  function readAlarmForm() {
    const fields = Object.fromEntries(
      Object.entries(alarmFields).map(([key, read]) => [key, read()]),
    );
    if (channels) fields.color_path = ui.alarmColor.value; // colour devices only
    if (fields.date !== null) delete fields.weekdays;
    return fields;
  }

  /** The days are needed (at least one) only without a date; with one they are off. */
  function checkDays() {
    const dated = Boolean(ui.alarmDate.value);
    ui.alarmDaySet.disabled = dated;
    const none = !dated && !ui.alarmDays.some((box) => box.checked);
    ui.alarmDays[0].setCustomValidity(none ? "Choose at least one day." : "");
  }

  function resetAlarmForm() {
    editing = null;
    ui.alarmForm.reset();
    checkDays();
    ui.alarmFormTitle.textContent = "New alarm";
    ui.alarmSave.textContent = "Add alarm";
    ui.alarmCancel.hidden = true;
    ui.alarmForm.hidden = alarms.length >= MAX_ALARMS;
    for (const item of ui.alarmList.children) item.classList.remove("editing");
  }

  function startEditing(alarm, item) {
    ui.alarmTime.value = alarm.time;
    ui.alarmName.value = alarmName(alarm) || "";
    ui.alarmDate.value = alarm.date || "";
    for (const box of ui.alarmDays) box.checked = alarm.weekdays.includes(Number(box.value));
    checkDays();
    ui.alarmDuration.value = String(Math.max(1, Math.round(alarm.duration / 60)));
    ui.alarmTarget.value = String(toPercent(alarm.target_brightness));
    ui.alarmCurve.value = alarm.curve;
    ui.alarmColor.value = alarm.color_path || "sunrise";
    // Only what the user changes is sent, so unchanged values are not rounded to the form.
    editing = { id: alarm.id, shown: readAlarmForm() };
    const own = alarmName(alarm);
    ui.alarmFormTitle.textContent = own
      ? `Edit the alarm ${own} (${alarm.time})`
      : `Edit the ${alarm.time} alarm`;
    ui.alarmSave.textContent = "Save alarm";
    ui.alarmCancel.hidden = false;
    ui.alarmForm.hidden = false;
    for (const other of ui.alarmList.children) other.classList.toggle("editing", other === item);
    ui.alarmTime.focus();
  }

  /** Leave the edit form, back to the alarm's Edit button. */
  function stopEditing() {
    const id = editing && editing.id;
    resetAlarmForm();
    const item = [...ui.alarmList.children].find((li) => li.dataset.id === id);
    if (item) item.querySelector('[data-action="edit"]').focus();
  }

  ui.alarmList.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    const item = button && button.closest("li");
    const alarm = item && alarms.find((a) => a.id === item.dataset.id);
    if (!alarm) return;
    const name = alarmLabel(alarm);
    switch (button.dataset.action) {
      case "enabled":
        if (await command("alarm.update", { id: alarm.id, enabled: !alarm.enabled })) {
          announce(`Alarm ${name} ${alarm.enabled ? "off" : "on"}.`);
        }
        break;
      case "skip":
        if (await command("alarm.skip_next", { id: alarm.id, skip: !alarm.skip_next })) {
          announce(`Alarm ${name}: ${alarm.skip_next ? "skip undone" : "next one skipped"}.`);
        }
        break;
      case "edit":
        startEditing(alarm, item);
        break;
      case "delete":
        if (!confirm(`Delete the alarm ${name}?`)) return;
        if (await command("alarm.delete", { id: alarm.id })) announce(`Alarm ${name} deleted.`);
        break;
    }
  });

  ui.alarmDaySet.addEventListener("change", checkDays);
  ui.alarmDate.addEventListener("input", checkDays);

  ui.alarmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    checkDays();
    if (saving || !ui.alarmForm.reportValidity()) return;
    const fields = readAlarmForm();
    saving = true;
    try {
      if (!editing) {
        const { name, date, ...rest } = fields;
        const ack = await command("alarm.create", {
          ...rest,
          ...(date === null ? {} : { date }),
          ...(name === null ? {} : { name }),
          enabled: true,
        });
        if (ack) {
          resetAlarmForm();
          announce(`Alarm ${alarmLabel(ack.alarm)} added.`);
        }
        return;
      }
      const { id, shown } = editing;
      const changes = Object.fromEntries(
        Object.entries(fields).filter(([key, value]) => `${value}` !== `${shown[key]}`),
      );
      const changed = Object.keys(changes).length > 0;
      if (changed && !(await command("alarm.update", { id, ...changes }))) return;
      stopEditing();
      announce(changed ? "Alarm saved." : "Nothing changed.");
    } finally {
      saving = false;
    }
  });

  ui.alarmCancel.addEventListener("click", stopEditing);

  // -- other controls --------------------------------------------------------------

  ui.power.addEventListener("click", () => {
    const on = ui.power.getAttribute("aria-checked") === "true";
    command("light.set", { on: !on });
  });

  ui.sunriseForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ui.sunriseForm.reportValidity()) return;
    const payload = {
      duration: Number(ui.sunriseDuration.value) * 60,
      target_brightness: Math.max(1, toWire(Number(ui.sunriseTarget.value))),
      curve: ui.sunriseCurve.value,
    };
    if (channels) payload.color_path = ui.sunriseColor.value;
    command("sunrise.start", payload);
  });

  ui.kelvin.addEventListener("input", () => showKelvin(Number(ui.kelvin.value)));
  ui.kelvin.addEventListener("change", () => {
    command("light.set", { color_temp_kelvin: Number(ui.kelvin.value) });
  });

  ui.colour.addEventListener("change", () => {
    const value = ui.colour.value;
    const rgb = [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16));
    if (rgb.some((c) => c > 0)) command("light.set", { rgb_color: rgb });
  });

  ui.sunriseStop.addEventListener("click", () => {
    command("sunrise.stop");
  });

  ui.sunsetForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!ui.sunsetForm.reportValidity()) return;
    command("sunset.start", { duration: Number(ui.sunsetDuration.value) * 60 });
  });

  ui.sunsetStop.addEventListener("click", () => {
    command("sunset.stop");
  });

  ui.snooze.addEventListener("click", () => {
    command("alarm.snooze");
  });

  ui.dismiss.addEventListener("click", () => {
    command("alarm.dismiss");
  });

  ui.wakeSettingsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ui.wakeSettingsForm.reportValidity()) return;
    const ack = await command("wake_settings.set", {
      snooze_length: Number(ui.snoozeLength.value) * 60,
      snooze_level: toWire(Number(ui.snoozeLevel.value)),
      dismiss: ui.dismissAction.value,
      after_wake: Number(ui.afterWake.value) * 60,
    });
    if (ack) {
      renderWakeSettings(ack.state.wake_settings, true); // as the device keeps them
      ui.wakeSettingsStatus.textContent = "Snooze and dismiss settings saved.";
    }
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
    resetAlarmForm();
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
