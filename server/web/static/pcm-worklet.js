// Microphone audio -> 16 kHz mono little-endian PCM16 chunks.
//
// This one file serves two roles so the resampler exists once:
//  * loaded with audioWorklet.addModule() it registers the "pcm16-downsampler" AudioWorkletProcessor;
//  * loaded with a <script> tag it exposes `EmpathicaDownsampler` for the ScriptProcessor fallback.
"use strict";

/** Streaming downsampler: windowed-sinc low-pass (anti-aliasing) then linear interpolation. */
class EmpathicaDownsampler {
  /**
   * @param {number} inRate  input sample rate (the AudioContext's, e.g. 48000)
   * @param {number} outRate output sample rate (16000 for the Empathica protocol)
   * @param {number} chunkSamples output samples per emitted chunk (100 ms by default)
   */
  constructor(inRate, outRate = 16000, chunkSamples = 1600) {
    this.step = inRate / outRate;
    this.chunkSamples = chunkSamples;
    this.taps = this.step > 1 ? EmpathicaDownsampler.lowpass(0.45 / this.step, 47) : new Float32Array([1]);
    this.history = new Float32Array(this.taps.length);
    this.reset();
  }

  /** Hamming-windowed sinc low-pass; `cutoff` in cycles per input sample. */
  static lowpass(cutoff, n) {
    const taps = new Float32Array(n);
    const mid = (n - 1) / 2;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = i - mid;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      taps[i] = sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1)));
      sum += taps[i];
    }
    for (let i = 0; i < n; i++) taps[i] /= sum; // unity gain at DC
    return taps;
  }

  /** Forget all state: the next utterance starts clean. */
  reset() {
    this.history.fill(0);
    this.head = 0;
    this.prev = 0;
    this.t = 1; // position of the next output sample, in input samples after `prev`
    this.out = new Int16Array(this.chunkSamples);
    this.fill = 0;
  }

  /**
   * Feed input samples; returns the completed chunks (ArrayBuffers of PCM16) if any.
   * @param {Float32Array} input
   * @returns {ArrayBuffer[]}
   */
  push(input) {
    const chunks = [];
    const taps = this.taps;
    const n = taps.length;
    const hist = this.history;
    for (let i = 0; i < input.length; i++) {
      hist[this.head] = input[i];
      this.head = (this.head + 1) % n;
      let y = 0;
      for (let k = 0, j = this.head; k < n; k++, j = j + 1 === n ? 0 : j + 1) y += taps[k] * hist[j];
      while (this.t <= 1) {
        const s = this.prev + (y - this.prev) * this.t;
        const c = s < -1 ? -1 : s > 1 ? 1 : s;
        this.out[this.fill++] = c < 0 ? c * 0x8000 : c * 0x7fff;
        if (this.fill === this.chunkSamples) chunks.push(this.take());
        this.t += this.step;
      }
      this.t -= 1;
      this.prev = y;
    }
    return chunks;
  }

  /** Returns the partial chunk (possibly empty) and starts a new one. */
  take() {
    // Int16Array is little-endian on every platform browsers run on, matching the protocol's pcm16.
    const buf = this.out.buffer.slice(0, this.fill * 2);
    this.fill = 0;
    return buf;
  }
}

if (typeof AudioWorkletProcessor === "function" && typeof registerProcessor === "function") {
  /**
   * Posts {type:"pcm", data:ArrayBuffer} while recording; on {cmd:"stop"} flushes and posts {type:"stopped"}.
   * Messages on one port keep their order, so "stopped" always follows the last chunk.
   */
  class Pcm16Downsampler extends AudioWorkletProcessor {
    constructor(options) {
      super();
      const target = (options && options.processorOptions && options.processorOptions.targetRate) || 16000;
      this.ds = new EmpathicaDownsampler(sampleRate, target);
      this.recording = false;
      this.port.onmessage = (event) => {
        const cmd = event.data && event.data.cmd;
        if (cmd === "start") {
          this.ds.reset();
          this.recording = true;
        } else if (cmd === "stop") {
          if (this.recording) {
            const rest = this.ds.take();
            if (rest.byteLength) this.port.postMessage({ type: "pcm", data: rest }, [rest]);
          }
          this.recording = false;
          this.port.postMessage({ type: "stopped" });
        }
      };
    }

    process(inputs) {
      const channels = inputs[0];
      if (this.recording && channels && channels.length) {
        let mono = channels[0];
        if (channels.length > 1) {
          mono = new Float32Array(channels[0].length);
          for (const ch of channels) for (let i = 0; i < ch.length; i++) mono[i] += ch[i] / channels.length;
        }
        for (const chunk of this.ds.push(mono)) this.port.postMessage({ type: "pcm", data: chunk }, [chunk]);
      }
      return true; // keep the processor alive between utterances
    }
  }
  registerProcessor("pcm16-downsampler", Pcm16Downsampler);
} else {
  globalThis.EmpathicaDownsampler = EmpathicaDownsampler;
}
