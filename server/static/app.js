// Empathica web client: websocket protocol v1 (docs/protocol.md), MSE video playback, push-to-talk microphone.
// Plain browser JavaScript, no build step and no external resources.
(() => {
  "use strict";

  const PROTOCOL = 1;
  const DEFAULT_MIME = 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"';
  const MIC_RATE = 16000;
  const MIC_IDLE_RELEASE_MS = 30000; // keep the microphone open briefly so the next press loses no speech
  const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

  const $ = (id) => document.getElementById(id);
  const ui = {
    statusText: $("status-text"),
    video: $("avatar"),
    mood: $("agent-mood"),
    sound: $("sound"),
    error: $("error"),
    errorText: $("error-text"),
    errorClose: $("error-close"),
    safety: $("safety"),
    safetyText: $("safety-text"),
    safetyClose: $("safety-close"),
    persona: $("persona"),
    transcript: $("transcript"),
    form: $("composer"),
    message: $("message"),
    send: $("send"),
    talk: $("talk"),
    cancel: $("cancel"),
  };

  /** State visible to tests and to the console as `window.empathica`. */
  const hooks = {
    state: "connecting", // connecting | open | closed
    reply: "idle", // idle | waiting (input sent) | replying (reply_start seen) — protocol state, not video
    sessionId: null,
    mediaMime: DEFAULT_MIME,
    lastError: null,
    persona: new URLSearchParams(location.search).get("persona"), // null: the server's configured persona
    safety: null, // the last `safety` message (category and scripted response)
    turns: 0,
    audioBytesSent: 0,
    framesDecoded: () => player.framesDecoded(),
  };
  window.empathica = hooks;

  // ---------------------------------------------------------------- small view helpers

  function setConnection(state, text) {
    hooks.state = state;
    document.body.dataset.connection = state;
    ui.statusText.textContent = text;
    const open = state === "open";
    ui.send.disabled = !open;
    ui.cancel.disabled = !open;
    ui.talk.disabled = !open || !mic.supported();
  }

  function setReply(state) {
    hooks.reply = state;
    document.body.dataset.reply = state;
  }

  function showError(message, code) {
    hooks.lastError = code ? `${code}: ${message}` : message;
    ui.errorText.textContent = message;
    ui.error.hidden = false;
  }

  function emotionText(emotion) {
    if (!emotion || typeof emotion.label !== "string") return "";
    const intensity = Number(emotion.intensity);
    return Number.isFinite(intensity) ? `${emotion.label} ${intensity.toFixed(2)}` : emotion.label;
  }

  function formatTimings(timings) {
    const names = [
      ["asr", "speech recognition"],
      ["perception", "perception"],
      ["llm_first_sentence", "first sentence"],
      ["llm_total", "language model"],
      ["tts", "voice"],
      ["render", "render"],
      ["encode", "encode"],
      ["first_media", "first video"],
      ["total", "total"],
    ];
    const parts = [];
    for (const [key, label] of names) {
      const ms = timings && Number(timings[key]);
      if (Number.isFinite(ms)) parts.push(`${label} ${(ms / 1000).toFixed(2)} s`);
    }
    return parts.join(" · ");
  }

  /** One transcript entry: who, text, an emotion label and a details line. */
  class Line {
    constructor(role, text = "") {
      this.el = document.createElement("li");
      this.el.className = `line ${role}`;
      const head = document.createElement("div");
      head.className = "head";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = role === "user" ? "You" : role === "agent" ? "Avatar" : "Notice";
      this.emotion = document.createElement("span");
      this.emotion.className = "emotion";
      this.emotion.hidden = true;
      head.append(who, this.emotion);
      this.text = document.createElement("p");
      this.text.className = "text";
      this.text.textContent = text;
      this.details = document.createElement("p");
      this.details.className = "details";
      this.details.hidden = true;
      this.el.append(head, this.text, this.details);
      const list = ui.transcript;
      const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      list.append(this.el);
      if (stick) list.scrollTop = list.scrollHeight;
    }

    setText(text) {
      this.text.textContent = text;
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    }

    appendText(sentence) {
      const current = this.text.textContent;
      this.setText(current ? `${current} ${sentence}` : sentence);
    }

    setEmotion(emotion) {
      const text = emotionText(emotion);
      this.emotion.textContent = text;
      this.emotion.title = text ? `Emotion: ${text}` : "";
      this.emotion.hidden = !text;
      if (emotion && emotion.label) this.emotion.dataset.label = emotion.label;
    }

    setDetails(text) {
      this.details.textContent = text;
      this.details.hidden = !text;
    }
  }

  // ---------------------------------------------------------------- video: one MediaSource per turn

  /**
   * Plays each turn's fragmented MP4 through Media Source Extensions. Piece 0 of a turn is the initialisation
   * segment, so every turn gets a fresh MediaSource; pieces are appended strictly in order, one at a time.
   */
  class Player {
    constructor(video) {
      this.video = video;
      this.turn = null;
      this.framesBefore = 0; // frames decoded by earlier MediaSources (the counter restarts with each src)
      video.addEventListener("error", () => {
        const err = video.error;
        if (err && this.turn) showError(`The video could not be played (${err.message || `code ${err.code}`}).`);
      });
      // The video usually plays on after reply_end (media arrives faster than real time), so its state is separate.
      for (const type of ["playing", "pause", "ended", "waiting", "emptied"]) {
        video.addEventListener(type, () => (document.body.dataset.video = type));
      }
    }

    framesDecoded() {
      const v = this.video;
      let now = 0;
      if (typeof v.getVideoPlaybackQuality === "function") now = v.getVideoPlaybackQuality().totalVideoFrames;
      else if ("webkitDecodedFrameCount" in v) now = v.webkitDecodedFrameCount;
      return this.framesBefore + now;
    }

    /** Media piece `index` of turn `turnId` arrived. */
    piece(turnId, index, data, mime) {
      if (index === 0) this.begin(turnId, mime);
      const turn = this.turn;
      if (!turn || turn.id !== turnId || turn.stopped) return; // a cancelled or unknown turn: drop
      if (index !== turn.expected) {
        hooks.lastError = `media piece ${index} of turn ${turnId} out of order (expected ${turn.expected})`;
      }
      turn.expected = index + 1;
      turn.queue.push(data);
      this.pump();
    }

    begin(turnId, mime) {
      this.stop();
      // ManagedMediaSource is the iPhone's MSE; it needs remote playback (AirPlay) off to open.
      const MediaSourceImpl = window.MediaSource || window.ManagedMediaSource;
      if (!MediaSourceImpl || !MediaSourceImpl.isTypeSupported(mime)) {
        showError(`This browser cannot play the avatar's video (${mime}). The text reply still works.`);
        return;
      }
      this.framesBefore = this.framesDecoded();
      const source = new MediaSourceImpl();
      if (MediaSourceImpl !== window.MediaSource) this.video.disableRemotePlayback = true;
      const turn = { id: turnId, source, buffer: null, queue: [], expected: 0, ended: false, stopped: false };
      turn.url = URL.createObjectURL(source);
      this.turn = turn;
      source.addEventListener(
        "sourceopen",
        () => {
          if (this.turn !== turn) return;
          try {
            turn.buffer = source.addSourceBuffer(mime);
          } catch (err) {
            showError(`The video format was refused by this browser: ${err.message}`);
            turn.stopped = true;
            return;
          }
          turn.buffer.addEventListener("updateend", () => this.pump());
          turn.buffer.addEventListener("error", () => {
            hooks.lastError = "SourceBuffer error";
          });
          this.pump();
        },
        { once: true },
      );
      this.video.src = turn.url;
      this.play();
    }

    /** Appends the next queued piece when the SourceBuffer is idle; ends the stream once everything is in. */
    pump() {
      const turn = this.turn;
      if (!turn || turn.stopped || !turn.buffer || turn.buffer.updating) return;
      if (turn.source.readyState !== "open") return;
      if (turn.queue.length) {
        const data = turn.queue[0];
        try {
          turn.buffer.appendBuffer(data);
          turn.queue.shift();
        } catch (err) {
          if (err.name === "QuotaExceededError") this.evict(turn);
          else {
            showError(`Video playback failed: ${err.message}`);
            turn.stopped = true;
          }
        }
        return;
      }
      if (turn.ended) {
        try {
          turn.source.endOfStream();
        } catch (err) {
          hooks.lastError = `endOfStream: ${err.message}`;
        }
      }
    }

    /** The buffer is full (very long reply): drop what has already been played, then retry. */
    evict(turn) {
      const played = this.video.currentTime - 2;
      const start = turn.buffer.buffered.length ? turn.buffer.buffered.start(0) : 0;
      if (played > start) turn.buffer.remove(start, played);
      else setTimeout(() => this.pump(), 500);
    }

    /** The turn has no more pieces. */
    end(turnId) {
      const turn = this.turn;
      if (!turn || turn.id !== turnId) return;
      turn.ended = true;
      this.pump();
    }

    /** Stop showing the current turn at once (cancel, barge-in, lost connection). */
    stop() {
      const turn = this.turn;
      if (!turn) return;
      turn.stopped = true;
      turn.queue = [];
      this.video.pause();
      if (turn.source.readyState === "open" && turn.buffer && !turn.buffer.updating) {
        try {
          turn.source.endOfStream();
        } catch {
          // already ended: nothing to do
        }
      }
      // The old object URL is revoked once the next turn replaces it; revoking now would blank the last frame.
      if (this.revokeLater) URL.revokeObjectURL(this.revokeLater);
      this.revokeLater = turn.url;
    }

    play() {
      const attempt = this.video.play();
      if (attempt && attempt.catch) {
        attempt.catch((err) => {
          if (err.name === "NotAllowedError" && !this.video.muted) {
            // No user gesture yet: autoplay muted is allowed everywhere; the sound button unmutes.
            sound.set(false);
            this.video.play().catch(() => {});
          } else if (err.name !== "AbortError") {
            hooks.lastError = `play: ${err.message}`;
          }
        });
      }
    }
  }

  /** Muted autoplay always works; the first user gesture on the page turns the sound on. */
  const sound = {
    touched: false,
    set(on) {
      ui.video.muted = !on;
      ui.sound.textContent = on ? "Sound on" : "Sound off";
      ui.sound.setAttribute("aria-pressed", String(on));
    },
    firstGesture() {
      if (sound.touched) return;
      sound.touched = true;
      sound.set(true);
      if (player.turn && !player.turn.stopped && ui.video.paused) player.play();
    },
  };

  const player = new Player(ui.video);

  // ---------------------------------------------------------------- conversation state

  const conversation = {
    pendingUser: null, // the user's line before the server has named its turn
    users: new Map(), // turn_id -> Line
    agents: new Map(), // turn_id -> Line
    mediaNext: null, // the `media` announcement waiting for its binary frame

    userLine(turnId) {
      let line = this.users.get(turnId);
      if (!line && this.pendingUser) {
        line = this.pendingUser;
        this.pendingUser = null;
        this.users.set(turnId, line);
      }
      return line || null;
    },

    agentLine(turnId) {
      let line = this.agents.get(turnId);
      if (!line) {
        line = new Line("agent");
        line.el.dataset.turn = String(turnId);
        this.agents.set(turnId, line);
      }
      return line;
    },
  };

  function handleMessage(msg) {
    switch (msg.type) {
      case "ready":
        hooks.sessionId = msg.session_id || null;
        if (typeof msg.media_mime === "string" && msg.media_mime) hooks.mediaMime = msg.media_mime;
        setConnection("open", msg.persona ? `Connected — talking with ${msg.persona}` : "Connected");
        if (msg.persona) showPersona(msg.persona);
        backoff.reset();
        break;
      case "transcript": {
        let line = conversation.userLine(msg.turn_id);
        if (!line) {
          line = new Line("user");
          conversation.users.set(msg.turn_id, line);
        }
        line.setText(msg.text || "(nothing recognised)");
        break;
      }
      case "user_emotion": {
        const line = conversation.userLine(msg.turn_id);
        if (line) line.setEmotion(msg.emotion);
        break;
      }
      case "reply_start": {
        conversation.userLine(msg.turn_id); // bind a typed line that had no other message yet
        const line = conversation.agentLine(msg.turn_id);
        line.setEmotion(msg.emotion);
        line.el.classList.add("speaking");
        const mood = emotionText(msg.emotion);
        ui.mood.textContent = mood;
        ui.mood.hidden = !mood;
        setReply("replying");
        break;
      }
      case "reply_text":
        conversation.agentLine(msg.turn_id).appendText(msg.text || "");
        break;
      case "media":
        conversation.mediaNext = msg;
        break;
      case "reply_end": {
        const line = conversation.agentLine(msg.turn_id);
        line.el.classList.remove("speaking");
        if (typeof msg.text === "string" && msg.text) line.setText(msg.text);
        if (msg.cancelled) line.el.classList.add("cancelled");
        const details = formatTimings(msg.timings_ms);
        line.setDetails(msg.cancelled ? `cancelled${details ? ` · ${details}` : ""}` : details);
        player.end(msg.turn_id);
        hooks.turns += 1;
        setReply("idle");
        break;
      }
      case "safety":
        // A crisis message: keep the support text on screen (the avatar also speaks it) until dismissed.
        hooks.safety = { category: msg.category, response: msg.response };
        ui.safetyText.textContent = msg.response || "";
        ui.safety.hidden = false;
        break;
      case "error": {
        showError(msg.message || "Something went wrong.", msg.code);
        const line = new Line("notice", `${msg.message || "Error"}${msg.code ? ` (${msg.code})` : ""}`);
        line.el.setAttribute("role", "note");
        if (conversation.pendingUser && msg.turn_id == null) {
          conversation.pendingUser.el.classList.add("refused"); // the typed turn was not accepted
          conversation.pendingUser = null;
        }
        if (hooks.reply === "waiting") setReply("idle"); // no reply is coming for that input
        break;
      }
      default:
        break; // unknown types are ignored: additive protocol changes must not break the page
    }
  }

  function handleBinary(data) {
    const announced = conversation.mediaNext;
    conversation.mediaNext = null;
    if (!announced) {
      hooks.lastError = "binary frame without a media announcement";
      return;
    }
    player.piece(announced.turn_id, announced.index, data, hooks.mediaMime);
  }

  // ---------------------------------------------------------------- websocket with reconnection

  const backoff = {
    attempt: 0,
    timer: null,
    reset() {
      this.attempt = 0;
    },
    next() {
      const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      return base * (0.8 + 0.4 * Math.random()); // jitter: many tabs must not reconnect in lockstep
    },
  };

  let socket = null;

  function wsUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  function connect() {
    clearTimeout(backoff.timer);
    backoff.timer = null;
    setConnection("connecting", backoff.attempt ? "Reconnecting…" : "Connecting…");
    const ws = new WebSocket(wsUrl());
    ws.binaryType = "arraybuffer";
    socket = ws;

    ws.addEventListener("open", () => {
      const hello = { type: "hello", protocol: PROTOCOL };
      const params = new URLSearchParams(location.search);
      if (params.get("token")) hello.token = params.get("token");
      if (hooks.persona) hello.persona = hooks.persona;
      if (hooks.sessionId) hello.session_id = hooks.sessionId; // resume the same conversation after a drop
      ws.send(JSON.stringify(hello));
    });

    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      if (typeof event.data !== "string") {
        handleBinary(event.data);
        return;
      }
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        hooks.lastError = "server sent malformed JSON";
        return;
      }
      if (msg && typeof msg === "object") handleMessage(msg);
    });

    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      conversation.mediaNext = null;
      mic.abort();
      if (hooks.reply !== "idle") {
        player.end(player.turn && player.turn.id);
        setReply("idle");
      }
      if (event.code === 1009) showError("A message was too large for the server and the connection was closed.");
      const delay = backoff.next();
      setConnection("closed", `Disconnected — reconnecting in ${Math.ceil(delay / 1000)} s`);
      backoff.timer = setTimeout(connect, delay);
    });
  }

  /** Select `name` in the picker, adding it when the server names a persona the page does not list. */
  function showPersona(name) {
    const known = [...ui.persona.options].find((o) => o.value.toLowerCase() === name.toLowerCase());
    if (known) {
      ui.persona.value = known.value;
      return;
    }
    const option = new Option(name, name);
    ui.persona.add(option);
    ui.persona.value = name;
  }

  /** Start a new conversation with another persona: the server takes `persona` only before a session's first
   * turn, and a resumed session keeps its stored persona, so reconnect without the session id. */
  function switchPersona(name) {
    if (hooks.reply !== "idle") cancelReply();
    hooks.persona = name;
    hooks.sessionId = null;
    const old = socket;
    socket = null; // its close event must not schedule a reconnection: we connect right away
    if (old) old.close(1000, "switching persona");
    backoff.reset();
    ui.safety.hidden = true;
    // Turn ids start again at 0 in the new conversation: start with an empty transcript.
    mic.abort();
    ui.transcript.replaceChildren();
    conversation.users.clear();
    conversation.agents.clear();
    conversation.pendingUser = null;
    conversation.mediaNext = null;
    connect();
  }

  function send(obj) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showError("Not connected to the server yet; please try again in a moment.");
      return false;
    }
    socket.send(typeof obj === "string" || obj instanceof ArrayBuffer ? obj : JSON.stringify(obj));
    return true;
  }

  /** Stop the reply in progress, on the server and on screen. */
  function cancelReply() {
    player.stop();
    ui.video.pause();
    if (hooks.reply !== "idle") send({ type: "cancel" });
    setReply("idle");
  }

  // ---------------------------------------------------------------- typed turns

  function sendText() {
    const text = ui.message.value.trim();
    if (!text) return;
    if (hooks.reply !== "idle") cancelReply(); // typing over the avatar interrupts it, like speaking does
    if (!send({ type: "text", text })) return;
    ui.error.hidden = true;
    conversation.pendingUser = new Line("user", text);
    ui.message.value = "";
    setReply("waiting");
  }

  // ---------------------------------------------------------------- push-to-talk microphone

  const mic = {
    context: null,
    stream: null,
    node: null, // AudioWorkletNode or ScriptProcessorNode
    fallback: null, // EmpathicaDownsampler when the ScriptProcessor path is used
    opening: null,
    holding: false,
    recording: false,
    releaseTimer: null,

    supported() {
      return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.AudioContext);
    },

    async open() {
      if (this.node) return;
      if (!this.opening) this.opening = this.build().finally(() => (this.opening = null));
      await this.opening;
    },

    async build() {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      const context = new AudioContext();
      const source = context.createMediaStreamSource(stream);
      let node;
      try {
        await context.audioWorklet.addModule("/static/pcm-worklet.js");
        node = new AudioWorkletNode(context, "pcm16-downsampler", {
          numberOfInputs: 1,
          numberOfOutputs: 0,
          channelCount: 1,
          channelCountMode: "explicit",
          processorOptions: { targetRate: MIC_RATE },
        });
        node.port.onmessage = (event) => this.fromWorklet(event.data);
      } catch (err) {
        // Older browsers: same resampler on the main thread through a ScriptProcessor.
        hooks.lastError = `AudioWorklet unavailable (${err.message}); using ScriptProcessor`;
        this.fallback = new window.EmpathicaDownsampler(context.sampleRate, MIC_RATE);
        node = context.createScriptProcessor(4096, 1, 1);
        node.onaudioprocess = (event) => {
          if (!this.recording) return;
          for (const chunk of this.fallback.push(event.inputBuffer.getChannelData(0))) this.chunk(chunk);
        };
        node.connect(context.destination); // a ScriptProcessor only runs when connected (it outputs silence)
      }
      source.connect(node);
      this.context = context;
      this.stream = stream;
      this.node = node;
    },

    fromWorklet(data) {
      if (data.type === "pcm") this.chunk(data.data);
      else if (data.type === "stopped") this.finish();
    },

    chunk(buffer) {
      if (!buffer.byteLength) return;
      if (send(buffer)) hooks.audioBytesSent += buffer.byteLength;
    },

    finish() {
      if (!this.recording) return;
      this.recording = false;
      send({ type: "audio_end" });
      setReply("waiting");
      this.scheduleRelease();
    },

    async press() {
      if (this.holding) return;
      this.holding = true;
      clearTimeout(this.releaseTimer);
      ui.talk.classList.add("active");
      ui.talk.setAttribute("aria-pressed", "true");
      ui.talk.textContent = "Opening microphone…";
      try {
        await this.open();
      } catch (err) {
        this.holding = false;
        this.resetButton();
        const reason = err && err.name === "NotAllowedError" ? "permission was denied" : err.message;
        showError(`The microphone could not be opened (${reason}). You can still type.`);
        return;
      }
      if (!this.holding) return; // released while the microphone was opening: nothing was said
      if (this.context.state === "suspended") await this.context.resume();
      if (hooks.reply !== "idle") cancelReply(); // barge-in: speaking interrupts the avatar
      if (!send({ type: "audio_start", format: "pcm16", sample_rate: MIC_RATE })) {
        this.holding = false;
        this.resetButton();
        return;
      }
      ui.error.hidden = true;
      this.recording = true;
      ui.talk.textContent = "Listening… release to send";
      if (this.fallback) this.fallback.reset();
      else this.node.port.postMessage({ cmd: "start" });
    },

    release() {
      if (!this.holding) return;
      this.holding = false;
      this.resetButton();
      if (!this.recording) return;
      if (this.fallback) {
        this.chunk(this.fallback.take());
        this.finish();
      } else {
        this.node.port.postMessage({ cmd: "stop" }); // the worklet flushes, then answers "stopped"
      }
    },

    /** The connection dropped: whatever was being recorded is lost. */
    abort() {
      this.holding = false;
      this.recording = false;
      this.resetButton();
      if (this.node && !this.fallback) this.node.port.postMessage({ cmd: "stop" });
    },

    resetButton() {
      ui.talk.classList.remove("active");
      ui.talk.setAttribute("aria-pressed", "false");
      ui.talk.textContent = "Hold to talk";
    },

    /** Close the microphone after a quiet while, so the browser's recording indicator goes off. */
    scheduleRelease() {
      clearTimeout(this.releaseTimer);
      this.releaseTimer = setTimeout(() => {
        if (this.holding || this.recording || !this.node) return;
        this.stream.getTracks().forEach((t) => t.stop());
        this.context.close();
        this.context = this.stream = this.node = this.fallback = null;
      }, MIC_IDLE_RELEASE_MS);
    },
  };

  // ---------------------------------------------------------------- wiring

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendText();
  });
  ui.message.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendText();
    }
  });
  ui.cancel.addEventListener("click", cancelReply);
  ui.errorClose.addEventListener("click", () => (ui.error.hidden = true));
  ui.safetyClose.addEventListener("click", () => (ui.safety.hidden = true));
  ui.persona.addEventListener("change", () => switchPersona(ui.persona.value));
  ui.sound.addEventListener("click", () => {
    sound.touched = true;
    sound.set(ui.video.muted);
    if (!ui.video.muted && player.turn && ui.video.paused) player.play();
  });
  // Any first gesture (the Send click included) unlocks sound; the sound button handles its own click.
  for (const type of ["pointerdown", "keydown"]) {
    document.addEventListener(
      type,
      (event) => {
        if (event.target !== ui.sound) sound.firstGesture();
      },
      { capture: true },
    );
  }

  ui.talk.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    ui.talk.setPointerCapture(event.pointerId); // a release outside the button still ends the utterance
    mic.press();
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    ui.talk.addEventListener(type, () => mic.release());
  }
  ui.talk.addEventListener("contextmenu", (event) => event.preventDefault()); // long touch must not open a menu

  /** Space held anywhere except while typing or on another control means "talk". */
  function spaceTalks(event) {
    if (event.code !== "Space" || event.ctrlKey || event.metaKey || event.altKey) return false;
    const el = event.target;
    if (el === ui.talk) return true;
    return !(el instanceof HTMLElement && el.closest("textarea, input, select, button, a, [contenteditable]"));
  }
  document.addEventListener("keydown", (event) => {
    if (!spaceTalks(event) || ui.talk.disabled) return;
    event.preventDefault();
    if (!event.repeat) mic.press();
  });
  document.addEventListener("keyup", (event) => {
    if (!spaceTalks(event)) return;
    event.preventDefault();
    mic.release();
  });
  window.addEventListener("blur", () => mic.release()); // a key released in another window never reaches us

  // Reconnect immediately when the network comes back or the tab is shown again.
  const reconnectNow = () => {
    if (!socket && backoff.timer) connect();
  };
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  if (!mic.supported()) {
    $("talk-hint").textContent =
      "Talking needs a secure page (https or localhost) and a browser with Web Audio; you can still type.";
  }
  sound.set(false);
  connect();
})();
