import type { Clock } from '../clock.js';

/** A clock tests move forward by hand (lockout windows, token expiry) instead of waiting. */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
