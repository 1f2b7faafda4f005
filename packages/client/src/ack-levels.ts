import { ACK_LEVELS, type AckLevel } from '@converge/protocol';

/**
 * The order of durability levels, `local` < `relay` < `quorum` < `all`, written once: a write's
 * status only moves up it, and a wait for a level is met by that level or a higher one.
 */
export { ACK_LEVELS };

/** A level's place in `ACK_LEVELS` (0 for `local`). */
export const levelRank = (level: AckLevel): number => ACK_LEVELS.indexOf(level);
