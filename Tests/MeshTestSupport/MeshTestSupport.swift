enum MeshTestSupportModule {}
