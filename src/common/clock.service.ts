import { Injectable } from '@nestjs/common';

/**
 * The time, injected, so that tests of time-based rules (retention, expiry horizons) set it
 * instead of waiting for it.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}
