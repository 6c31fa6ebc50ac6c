// Microphone capture: 16 kHz PCM16 chunks from an AudioWorklet (ScriptProcessor on old browsers).

export const MIC_RATE = 16000;
const IDLE_RELEASE_MS = 30000; // keep the microphone open briefly so the next press loses no speech

/**
 * One microphone, opened on demand. `start(onChunk)` delivers ArrayBuffers of little-endian PCM16 at 16 kHz
 * until `stop()`, whose promise resolves once the last samples were delivered.
 */
export class Microphone {
  constructor() {
    this.context = null;
    this.stream = null;
    this.node = null; // AudioWorkletNode or ScriptProcessorNode
    this.fallback = null; // EmpathicaDownsampler when the ScriptProcessor path is used
    this.opening = null;
    this.onChunk = null;
    this.stopped = null; // resolves the pending stop()
    this.releaseTimer = null;
    this.lastError = null;
  }

  static supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.AudioContext);
  }

  get recording() {
    return this.onChunk !== null;
  }

  async open() {
    clearTimeout(this.releaseTimer);
    if (this.node) return;
    if (!this.opening) this.opening = this.build().finally(() => (this.opening = null));
    await this.opening;
  }

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
      this.lastError = `AudioWorklet unavailable (${err.message}); using ScriptProcessor`;
      this.fallback = new window.EmpathicaDownsampler(context.sampleRate, MIC_RATE);
      node = context.createScriptProcessor(4096, 1, 1);
      node.onaudioprocess = (event) => {
        if (!this.onChunk) return;
        for (const chunk of this.fallback.push(event.inputBuffer.getChannelData(0))) this.deliver(chunk);
      };
      node.connect(context.destination); // a ScriptProcessor only runs when connected (it outputs silence)
    }
    source.connect(node);
    this.context = context;
    this.stream = stream;
    this.node = node;
  }

  fromWorklet(data) {
    if (data.type === "pcm") this.deliver(data.data);
    else if (data.type === "stopped") this.finished();
  }

  deliver(buffer) {
    if (buffer.byteLength && this.onChunk) this.onChunk(buffer);
  }

  finished() {
    this.onChunk = null;
    const done = this.stopped;
    this.stopped = null;
    if (done) done();
    this.scheduleRelease();
  }

  /** Start delivering chunks (the microphone must be open). */
  async start(onChunk) {
    if (this.context.state === "suspended") await this.context.resume();
    this.onChunk = onChunk;
    if (this.fallback) this.fallback.reset();
    else this.node.port.postMessage({ cmd: "start" });
  }

  /** Stop delivering; resolves after the buffered samples went out. */
  stop() {
    if (!this.onChunk) return Promise.resolve();
    if (this.fallback) {
      this.deliver(this.fallback.take());
      this.finished();
      return Promise.resolve();
    }
    const done = new Promise((resolve) => (this.stopped = resolve));
    this.node.port.postMessage({ cmd: "stop" }); // the worklet flushes, then answers "stopped"
    return done;
  }

  /** Stop at once, dropping what is buffered (the connection went away). */
  abort() {
    this.onChunk = null;
    if (this.node && !this.fallback) this.node.port.postMessage({ cmd: "stop" });
  }

  /** Close the microphone after a quiet while, so the browser's recording indicator goes off. */
  scheduleRelease() {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      if (this.onChunk || !this.node) return;
      this.stream.getTracks().forEach((t) => t.stop());
      this.context.close();
      this.context = this.stream = this.node = this.fallback = null;
    }, IDLE_RELEASE_MS);
  }
}

/** Why the microphone could not be opened, in words for the error banner. */
export function micErrorText(err) {
  const reason = err && err.name === "NotAllowedError" ? "permission was denied" : err && err.message;
  return `The microphone could not be opened (${reason}). You can still type.`;
}
