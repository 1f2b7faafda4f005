import { describe, expect, it } from 'vitest';
import { rankStandbys } from './pg-cluster-promotion.js';

describe('rankStandbys', () => {
  it('ranks by the greater of received and replayed, so a standby just restarted is not passed over', () => {
    // s1 restarted: it reports receiving from the start of its segment, but has replayed further than s2 received.
    const ranked = rankStandbys([
      { name: 's2', receiveLsn: '0/3A1C100', replayLsn: '0/3A1C100' },
      { name: 's1', receiveLsn: '0/3000000', replayLsn: '0/3A1C2D8' },
    ]);
    expect(ranked.map((standby) => [standby.name, standby.position])).toEqual([
      ['s1', '0/3A1C2D8'],
      ['s2', '0/3A1C100'],
    ]);
  });

  it('prefers received WAL not yet replayed, compares positions numerically, breaks ties by name, and puts unknown last', () => {
    const ranked = rankStandbys([
      { name: 's4', receiveLsn: null, replayLsn: null },
      { name: 's3', receiveLsn: '0/9000000', replayLsn: '0/9000000' },
      { name: 's2', receiveLsn: '0/10000000', replayLsn: '0/9000000' },
      { name: 's1', receiveLsn: '0/10000000', replayLsn: '0/8000000' },
    ]);
    expect(ranked.map((standby) => standby.name)).toEqual(['s1', 's2', 's3', 's4']);
  });
});
