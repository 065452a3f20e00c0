/** One labelled image at training resolution: normalised intensities (HWC) and class labels (255 = ignore). */
export interface TrainingSample {
  id: string;
  width: number;
  height: number;
  channels: 1 | 3;
  image: Float32Array;
  labels: Uint8Array;
}
