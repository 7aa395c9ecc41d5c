// Stands in for the official protocol test suites' node-imports.js when the tests run them (ProtocolSuiteTests):
// the same globals, except that WebSocket keeps the messages that arrive while no one listens for them. The suites
// wait for each message with a one-shot listener added after the previous one resolved, so two frames that arrive
// in one read (the CONNECT answer and the event right after it) lose the second; socket.io's own server fails those
// tests the same way on a busy machine. Delivered late, not changed: the tests see every message, in order.
import fetch from "node-fetch";
import { WebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";

chai.use(chaiString);

class KeepingWebSocket extends WebSocket {
  #listeners = [];
  #waiting = [];

  constructor(...args) {
    super(...args);
    super.addEventListener("message", (event) => this.#deliver({ type: "message", data: event.data }));
  }

  addEventListener(type, listener, options) {
    if (type !== "message") {
      return super.addEventListener(type, listener, options);
    }
    this.#listeners.push({ listener, once: Boolean(options && options.once) });
    queueMicrotask(() => {
      while (this.#waiting.length > 0 && this.#listeners.length > 0) {
        this.#deliver(this.#waiting.shift());
      }
    });
  }

  removeEventListener(type, listener, options) {
    if (type !== "message") {
      return super.removeEventListener(type, listener, options);
    }
    this.#listeners = this.#listeners.filter((entry) => entry.listener !== listener);
  }

  #deliver(event) {
    if (this.#listeners.length === 0) {
      this.#waiting.push(event);
      return;
    }
    for (const entry of [...this.#listeners]) {
      if (entry.once) {
        this.#listeners = this.#listeners.filter((other) => other !== entry);
      }
      entry.listener.call(this, event);
    }
  }
}

globalThis.fetch = fetch;
globalThis.WebSocket = KeepingWebSocket;
globalThis.chai = chai;
