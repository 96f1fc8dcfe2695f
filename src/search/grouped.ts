/**
 * A data-parallel search with sequence-parallel groups inside: the job's ranks form groups of
 * `groupSize` consecutive ranks (ranks k*g .. k*g + g - 1 are group k, as `ProcessGroup.split`
 * forms them); each group evaluates one candidate per round, its fitness running sequence-parallel
 * over the group, and the search loop sees the groups as its ranks. Every rank of a group computes
 * the same value, so the gather keeps each group's first rank's.
 */
import { describeValue, inputError } from '../common';
import type { SearchGroup } from './evolve';

/** What the adapter needs of the job's whole group (src/dist's ProcessGroup has it). */
export interface WorldGroup {
  rank: number;
  worldSize: number;
  allGather(data: Float32Array): Promise<Float32Array[]>;
}

/**
 * The {@link SearchGroup} of rank `world.rank` when the world's ranks evaluate in groups of
 * `groupSize`: its rank is the group's index, its size the number of groups, its gather the
 * world's gather reduced to one value per group; the world's rank 0 alone writes the run's files.
 * @throws when `groupSize` does not divide the world's ranks.
 */
export function groupedSearchGroup(world: WorldGroup, groupSize: number): SearchGroup {
  if (!(Number.isInteger(groupSize) && groupSize >= 1 && world.worldSize % groupSize === 0)) {
    throw inputError('search', 'sequence-parallel group size', `a divisor of the job's ${world.worldSize} ranks`, describeValue(groupSize));
  }
  return {
    rank: Math.floor(world.rank / groupSize),
    worldSize: world.worldSize / groupSize,
    writer: world.rank === 0,
    async allGather(data) {
      const all = await world.allGather(data);
      return all.filter((_, r) => r % groupSize === 0);
    },
  };
}
