// Reply video: each turn's fragmented MP4 played through Media Source Extensions as its pieces arrive.

import { hooks, showError, ui } from "./view.js";

/**
 * Plays each turn's fragmented MP4 through Media Source Extensions. Piece 0 of a turn is the initialisation
 * segment, so every turn gets a fresh MediaSource; pieces are appended strictly in order, one at a time.
 * `onShowing(bool)` tells the page whether a reply is on screen (the idle/listening loop shows otherwise).
 */
export class Player {
  constructor(video, onShowing) {
    this.video = video;
    this.onShowing = onShowing;
    this.turn = null;
    this.framesBefore = 0; // frames decoded by earlier MediaSources (the counter restarts with each src)
    video.addEventListener("error", () => {
      const err = video.error;
      if (err && this.turn && !this.turn.stopped) {
        showError(`The video could not be played (${err.message || `code ${err.code}`}).`);
      }
    });
    // The video usually plays on after reply_end (media arrives faster than real time), so its state is separate.
    for (const type of ["playing", "pause", "ended", "waiting", "emptied"]) {
      video.addEventListener(type, () => (document.body.dataset.video = type));
    }
    video.addEventListener("playing", () => this.onShowing(true));
    video.addEventListener("ended", () => this.onShowing(false));
    video.addEventListener("pause", () => {
      if (!this.turn || this.turn.stopped || video.ended) this.onShowing(false);
    });
    hooks.framesDecoded = () => this.framesDecoded();
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
    this.watchFirstFrame(turn);
    this.play();
  }

  /** Record when the turn's first frame is actually presented (the end of the latency chain). */
  watchFirstFrame(turn) {
    const mark = () => {
      if (this.turn === turn && !turn.stopped) hooks.firstFrames.push({ turnId: turn.id, at: performance.now() });
    };
    if (typeof this.video.requestVideoFrameCallback === "function") this.video.requestVideoFrameCallback(mark);
    else this.video.addEventListener("playing", mark, { once: true });
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

  /** Whether a reply's video is still to be shown (playing, or waiting for more pieces). */
  active() {
    return !!this.turn && !this.turn.stopped && !this.video.ended;
  }

  /**
   * Stop showing the current turn at once (cancel, barge-in, lost connection), dropping what is queued.
   * Returns {turnId, played}: the seconds of its media that were played, for the server's record.
   */
  stop() {
    const turn = this.turn;
    if (!turn || turn.stopped) return null;
    const played = this.video.currentTime;
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
    this.onShowing(false);
    return { turnId: turn.id, played };
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
export const sound = {
  touched: false,
  player: null,
  set(on) {
    ui.video.muted = !on;
    ui.sound.textContent = on ? "Sound on" : "Sound off";
    ui.sound.setAttribute("aria-pressed", String(on));
  },
  firstGesture() {
    if (sound.touched) return;
    sound.touched = true;
    sound.set(true);
    const player = sound.player;
    if (player && player.turn && !player.turn.stopped && ui.video.paused) player.play();
  },
};
